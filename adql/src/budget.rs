//! Stopping a running query: a deadline and a cancel flag checked between
//! the batches of every operator.
//!
//! Dropping a DataFusion stream stops a query only when its task next
//! yields, and a CPU-bound operator (a cross join feeding an aggregate)
//! can run for minutes without yielding. [`limit`] wraps every node of a
//! physical plan in a [`BudgetExec`] whose stream checks the [`Budget`] each
//! time a batch passes, so an execution-duration limit or an abort ends
//! the query within one batch of one operator, wherever it is.

use std::fmt;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::execution_plan::CardinalityEffect;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties, RecordBatchStream,
};
use futures::Stream;

/// How long a query may run, and a flag that stops it.
#[derive(Debug, Clone)]
pub struct Budget {
    deadline: Option<(Instant, Duration)>,
    cancelled: Arc<AtomicBool>,
}

impl Budget {
    /// A budget of `limit` from now (`None`: no time limit).
    pub fn new(limit: Option<Duration>) -> Budget {
        Budget {
            deadline: limit.map(|d| (Instant::now() + d, d)),
            cancelled: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Stop the query at its next batch.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    /// The deadline, if any.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline.map(|(i, _)| i)
    }

    /// Why the query must stop now, if it must.
    pub fn exceeded(&self) -> Option<String> {
        if self.cancelled.load(Ordering::Relaxed) {
            return Some("the query was cancelled".into());
        }
        match self.deadline {
            Some((at, d)) if Instant::now() >= at => Some(too_long(d)),
            _ => None,
        }
    }
}

/// The message for a query stopped by its time limit.
pub fn too_long(d: Duration) -> String {
    format!(
        "the query ran longer than its limit of {} s and was cancelled; \
         narrow it (a spatial constraint, TOP) or run it as an asynchronous job \
         with a longer execution duration",
        d.as_secs()
    )
}

/// `plan` with every node wrapped in a [`BudgetExec`].
pub fn limit(plan: Arc<dyn ExecutionPlan>, budget: &Budget) -> Result<Arc<dyn ExecutionPlan>> {
    plan.transform_up(|node| {
        Ok(Transformed::yes(
            Arc::new(BudgetExec::new(node, budget.clone())) as Arc<dyn ExecutionPlan>,
        ))
    })
    .map(|t| t.data)
}

/// A node that passes its input through, checking the budget at each batch.
#[derive(Debug)]
pub struct BudgetExec {
    input: Arc<dyn ExecutionPlan>,
    budget: Budget,
}

impl BudgetExec {
    /// Wrap `input`.
    pub fn new(input: Arc<dyn ExecutionPlan>, budget: Budget) -> Self {
        BudgetExec { input, budget }
    }
}

impl DisplayAs for BudgetExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "BudgetExec")
    }
}

impl ExecutionPlan for BudgetExec {
    fn name(&self) -> &str {
        "BudgetExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.input.properties()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![true]
    }

    fn benefits_from_input_partitioning(&self) -> Vec<bool> {
        vec![false]
    }

    fn cardinality_effect(&self) -> CardinalityEffect {
        CardinalityEffect::Equal
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let input = children
            .into_iter()
            .next()
            .ok_or_else(|| DataFusionError::Internal("BudgetExec has one child".into()))?;
        Ok(Arc::new(BudgetExec::new(input, self.budget.clone())))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        if let Some(m) = self.budget.exceeded() {
            return Err(DataFusionError::Execution(m));
        }
        Ok(Box::pin(BudgetStream {
            input: self.input.execute(partition, context)?,
            budget: self.budget.clone(),
            done: false,
        }))
    }
}

struct BudgetStream {
    input: SendableRecordBatchStream,
    budget: Budget,
    done: bool,
}

impl Stream for BudgetStream {
    type Item = Result<RecordBatch>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        if let Some(m) = self.budget.exceeded() {
            self.done = true;
            return Poll::Ready(Some(Err(DataFusionError::Execution(m))));
        }
        self.input.as_mut().poll_next(cx)
    }
}

impl RecordBatchStream for BudgetStream {
    fn schema(&self) -> SchemaRef {
        self.input.schema()
    }
}
