//! The job manager on real SQLite files and job directories, with a real
//! (small) executor: lifecycle, abort, execution duration, parameter rules,
//! list filters, WAIT, restart recovery, reaper, deletion, concurrency.

mod common;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use astrolake_uws::{
    format_time, xml, ErrorType, Job, ListFilter, Phase, Uws, UwsError, SERVER_STOPPED,
};
use chrono::{TimeDelta, Utc};
use common::{config, params, validate, TestExecutor};

type TestUws = Arc<Uws<TestExecutor>>;

async fn open(dir: &std::path::Path) -> TestUws {
    Uws::open(config(dir), TestExecutor::default())
        .await
        .unwrap()
}

/// The job once it reaches a final phase (WAIT in a loop, bounded).
async fn finished(uws: &TestUws, id: &str) -> Job {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let job = uws.wait(id, None, Duration::from_secs(5)).await.unwrap();
        if job.phase.is_final() {
            return job;
        }
        assert!(Instant::now() < deadline, "job did not finish: {job:?}");
    }
}

/// Wait (bounded) until `cond` holds.
async fn eventually(what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "never happened: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Wait until the executor has started `n` executions (a job aborted
/// before its task first ran never starts its executor).
async fn started(uws: &TestUws, n: usize) {
    let ex = uws.executor().clone();
    eventually("executions started", move || {
        ex.started.load(Ordering::SeqCst) == n
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_run_complete() {
    let tmp = tempfile::tempdir().unwrap();
    let uws = open(tmp.path()).await;
    let job = uws
        .create(
            params(&[
                ("TEXT", "hello <world> & \u{1} stars"),
                ("runid", "r1"),
                ("Lang", "ADQL"),
            ]),
            Some("alice".into()),
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(job.phase, Phase::Pending);
    assert_eq!(job.job_id.len(), 32);
    assert_eq!(job.run_id.as_deref(), Some("r1"));
    assert_eq!(job.owner.as_deref(), Some("alice"));
    assert_eq!(job.execution_duration, 3600);
    let days = (job.destruction - job.creation_time).num_hours();
    assert_eq!(days, 7 * 24);
    assert_eq!(job.parameter("lang"), Some("ADQL"));
    assert!(
        job.parameter("RUNID").is_none(),
        "RUNID is not a job parameter"
    );
    assert!(uws.results_dir(&job.job_id).is_dir());
    let url = format!("http://example.org/tap/async/{}", job.job_id);
    validate("pending.xml", &xml::job_document(&job, &url));

    let running = uws.run(&job.job_id).await.unwrap();
    assert!(matches!(running.phase, Phase::Queued | Phase::Executing));
    let done = finished(&uws, &job.job_id).await;
    assert_eq!(done.phase, Phase::Completed, "{done:?}");
    let start = done.start_time.unwrap();
    let end = done.end_time.unwrap();
    assert!(done.creation_time <= start && start <= end);
    assert_eq!(done.results.len(), 1);
    let (path, r) = uws.result_path(&done, "result").unwrap();
    assert_eq!(r.mime, "text/plain");
    let content = std::fs::read(&path).unwrap();
    assert_eq!(content, "hello <world> & \u{1} stars".as_bytes());
    assert_eq!(r.size, content.len() as u64);
    assert!(uws.result_path(&done, "nope").is_err());
    let doc = xml::job_document(&done, &url);
    validate("completed.xml", &doc);
    assert!(doc.contains("<uws:phase>COMPLETED</uws:phase>"));
    assert!(doc.contains(&format!("xlink:href=\"{url}/results/result\"")));
    assert!(doc.contains("hello &lt;world&gt; &amp; \u{FFFD} stars"));
    validate("results.xml", &xml::results_document(&done, &url));
    validate("parameters.xml", &xml::parameters_document(&done, &url));

    // Running again, or aborting, a finished job is refused.
    let e = uws.run(&job.job_id).await.unwrap_err();
    assert!(
        matches!(e, UwsError::Phase(_)) && e.status() == StatusCode::BAD_REQUEST,
        "{e}"
    );
    let e = uws.abort(&job.job_id).await.unwrap_err();
    assert!(matches!(e, UwsError::Phase(_)), "{e}");
    assert_eq!(uws.executor().started.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures() {
    let tmp = tempfile::tempdir().unwrap();
    let uws = open(tmp.path()).await;
    let url = "http://h/async/x";

    let j = uws
        .create(
            params(&[
                ("MODE", "fail"),
                ("MESSAGE", "no such table x"),
                ("PHASE", "RUN"),
            ]),
            None,
            vec![],
        )
        .await
        .unwrap();
    let j = finished(&uws, &j.job_id).await;
    assert_eq!(j.phase, Phase::Error);
    let e = j.error.clone().unwrap();
    assert_eq!(e.message, "no such table x");
    assert_eq!(e.error_type, ErrorType::Fatal);
    assert!(!e.has_detail());
    assert!(uws.error_document(&j).is_none());
    validate("error.xml", &xml::job_document(&j, url));

    let j = uws
        .create(
            params(&[
                ("MODE", "faildoc"),
                ("MESSAGE", "bad ADQL"),
                ("PHASE", "RUN"),
            ]),
            None,
            vec![],
        )
        .await
        .unwrap();
    let j = finished(&uws, &j.job_id).await;
    assert_eq!(j.phase, Phase::Error);
    assert!(j.error.as_ref().unwrap().has_detail());
    let (file, mime) = uws.error_document(&j).unwrap();
    assert_eq!(mime, "application/x-votable+xml");
    assert!(std::fs::read_to_string(file).unwrap().contains("bad ADQL"));
    let doc = xml::job_document(&j, url);
    assert!(doc.contains("hasDetail=\"true\""));
    validate("error-detail.xml", &doc);

    let j = uws
        .create(params(&[("MODE", "panic"), ("PHASE", "RUN")]), None, vec![])
        .await
        .unwrap();
    let j = finished(&uws, &j.job_id).await;
    assert_eq!(j.phase, Phase::Error);
    assert!(j.error.unwrap().message.contains("internal error"));

    let j = uws
        .create(
            params(&[("MODE", "nofile"), ("PHASE", "RUN")]),
            None,
            vec![],
        )
        .await
        .unwrap();
    let j = finished(&uws, &j.job_id).await;
    assert_eq!(j.phase, Phase::Error);
    assert!(j.results.is_empty());
    assert!(j.error.unwrap().message.contains("wrote no file"), "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abort_a_long_job() {
    let tmp = tempfile::tempdir().unwrap();
    let uws = open(tmp.path()).await;
    let j = uws
        .create(
            params(&[("MODE", "forever"), ("PHASE", "RUN")]),
            None,
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(j.phase, Phase::Executing);
    started(&uws, 1).await;
    let t = Instant::now();
    let j = uws.set_phase(&j.job_id, "abort").await.unwrap();
    assert_eq!(j.phase, Phase::Aborted);
    assert!(j.end_time.is_some());
    let ex = uws.executor().clone();
    eventually("the executor's future is dropped", || {
        ex.dropped.load(Ordering::SeqCst) == 1
    })
    .await;
    println!("abort: future dropped {:?} after the request", t.elapsed());
    // Stays ABORTED; ABORT again is harmless, RUN is refused.
    assert_eq!(uws.abort(&j.job_id).await.unwrap().phase, Phase::Aborted);
    assert!(matches!(uws.run(&j.job_id).await, Err(UwsError::Phase(_))));
    assert_eq!(uws.get(&j.job_id).await.unwrap().phase, Phase::Aborted);
    // A PENDING job can be aborted too.
    let p = uws.create(vec![], None, vec![]).await.unwrap();
    assert_eq!(uws.abort(&p.job_id).await.unwrap().phase, Phase::Aborted);
    validate(
        "aborted.xml",
        &xml::job_document(&uws.get(&j.job_id).await.unwrap(), "http://h/async/a"),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn execution_duration_cancels() {
    let tmp = tempfile::tempdir().unwrap();
    let uws = open(tmp.path()).await;
    let t0 = Instant::now();
    let j = uws
        .create(
            params(&[
                ("MODE", "forever"),
                ("EXECUTIONDURATION", "1"),
                ("PHASE", "RUN"),
            ]),
            None,
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(j.execution_duration, 1);
    let j = finished(&uws, &j.job_id).await;
    let took = t0.elapsed();
    println!("execution duration 1 s: ended after {took:?}");
    assert_eq!(j.phase, Phase::Error);
    assert_eq!(
        j.error.unwrap().message,
        "the job ran longer than its execution duration of 1 s and was cancelled"
    );
    assert!(took >= Duration::from_millis(990) && took < Duration::from_secs(5));
    assert_eq!(uws.executor().dropped.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parameter_rules() {
    let tmp = tempfile::tempdir().unwrap();
    let uws = open(tmp.path()).await;
    let max = uws.config().max_execution_duration;

    // Bad values at creation.
    for bad in [
        params(&[("PHASE", "ABORT")]),
        params(&[("EXECUTIONDURATION", "-5")]),
        params(&[("executionduration", "ten")]),
        params(&[("DESTRUCTION", "next week")]),
    ] {
        let e = uws.create(bad.clone(), None, vec![]).await.unwrap_err();
        assert_eq!(e.status(), StatusCode::BAD_REQUEST, "{bad:?}: {e}");
    }
    assert_eq!(uws.list(ListFilter::default()).await.unwrap().len(), 0);

    let j = uws
        .create(
            params(&[("QUERY", "a"), ("LANG", "ADQL"), ("EXECUTIONDURATION", "0")]),
            None,
            vec![],
        )
        .await
        .unwrap();
    let id = j.job_id.clone();
    assert_eq!(
        j.execution_duration, max,
        "0 (unlimited) is lowered to the maximum"
    );

    let j = uws
        .update_parameters(
            &id,
            params(&[("query", "b"), ("MAXREC", "10"), ("RunId", "x")]),
        )
        .await
        .unwrap();
    assert_eq!(
        j.parameters,
        params(&[("query", "b"), ("LANG", "ADQL"), ("MAXREC", "10")])
    );
    assert_eq!(j.run_id.as_deref(), Some("x"));
    let e = uws
        .update_parameters(&id, params(&[("PHASE", "RUN")]))
        .await
        .unwrap_err();
    assert_eq!(e.status(), StatusCode::BAD_REQUEST);

    // Durations and destruction are lowered to the maxima.
    assert_eq!(
        uws.set_execution_duration(&id, 60)
            .await
            .unwrap()
            .execution_duration,
        60
    );
    assert_eq!(
        uws.set_execution_duration(&id, 10_000_000)
            .await
            .unwrap()
            .execution_duration,
        max
    );
    let far = Utc::now() + TimeDelta::days(3650);
    let j = uws.set_destruction(&id, far).await.unwrap();
    assert_eq!(j.destruction - j.creation_time, TimeDelta::days(30));
    let soon = j.creation_time + TimeDelta::hours(1);
    assert_eq!(
        uws.set_destruction(&id, soon).await.unwrap().destruction,
        soon
    );
    // Through post, like the HTTP layer: every value is checked first.
    let e = uws
        .post(&id, params(&[("QUERY", "c"), ("DESTRUCTION", "garbage")]))
        .await
        .unwrap_err();
    assert_eq!(e.status(), StatusCode::BAD_REQUEST);
    assert_eq!(uws.get(&id).await.unwrap().parameter("QUERY"), Some("b"));

    // Once it ran, parameters and execution duration are fixed.
    let j = uws
        .post(&id, params(&[("TEXT", "t"), ("PHASE", "RUN")]))
        .await
        .unwrap()
        .unwrap();
    assert_ne!(j.phase, Phase::Pending);
    finished(&uws, &id).await;
    let e = uws
        .update_parameters(&id, params(&[("QUERY", "d")]))
        .await
        .unwrap_err();
    assert!(
        matches!(e, UwsError::Phase(_)) && e.status() == StatusCode::BAD_REQUEST,
        "{e}"
    );
    assert!(e.to_string().contains("PENDING"));
    let e = uws.set_execution_duration(&id, 5).await.unwrap_err();
    assert!(matches!(e, UwsError::Phase(_)), "{e}");
    // Destruction can still change.
    let later = soon + TimeDelta::hours(1);
    assert_eq!(
        uws.set_destruction(&id, later).await.unwrap().destruction,
        later
    );
    let e = uws.set_phase(&id, "SUSPEND").await.unwrap_err();
    assert_eq!(e.status(), StatusCode::BAD_REQUEST);
    // Unknown ids.
    for bad in ["0123456789abcdef0123456789abcdef", "../../etc", ""] {
        let e = uws.get(bad).await.unwrap_err();
        assert!(matches!(e, UwsError::NoSuchJob(_)) && e.status() == StatusCode::NOT_FOUND);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_filters() {
    let tmp = tempfile::tempdir().unwrap();
    let uws = open(tmp.path()).await;
    let mut ids = Vec::new();
    for i in 0..6 {
        let owner = if i % 2 == 0 { "alice" } else { "bob" };
        let j = uws
            .create(params(&[("N", &i.to_string())]), Some(owner.into()), vec![])
            .await
            .unwrap();
        ids.push(j);
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    // 0, 1: COMPLETED; 2: ERROR; 3: ABORTED; 4, 5: PENDING.
    for i in [0, 1] {
        uws.run(&ids[i].job_id).await.unwrap();
        finished(&uws, &ids[i].job_id).await;
    }
    uws.post(
        &ids[2].job_id,
        params(&[("MODE", "fail"), ("PHASE", "RUN")]),
    )
    .await
    .unwrap();
    finished(&uws, &ids[2].job_id).await;
    uws.abort(&ids[3].job_id).await.unwrap();

    let list = |f: ListFilter| {
        let uws = uws.clone();
        async move {
            uws.list(f)
                .await
                .unwrap()
                .into_iter()
                .map(|r| r.job_id)
                .collect::<Vec<_>>()
        }
    };
    let id = |i: usize| ids[i].job_id.clone();
    // Newest first.
    assert_eq!(
        list(ListFilter::default()).await,
        [5, 4, 3, 2, 1, 0].map(id)
    );
    let phases = |p: &[Phase]| ListFilter {
        phases: p.to_vec(),
        ..Default::default()
    };
    assert_eq!(list(phases(&[Phase::Completed])).await, [1, 0].map(id));
    assert_eq!(
        list(phases(&[Phase::Pending, Phase::Error])).await,
        [5, 4, 2].map(id)
    );
    assert_eq!(
        list(phases(&[Phase::Executing])).await,
        Vec::<String>::new()
    );
    let last = ListFilter {
        last: Some(2),
        ..Default::default()
    };
    assert_eq!(list(last).await, [5, 4].map(id));
    let after = ListFilter {
        after: Some(ids[2].creation_time),
        ..Default::default()
    };
    assert_eq!(list(after).await, [5, 4, 3].map(id));
    let combined = ListFilter {
        phases: vec![Phase::Completed, Phase::Pending],
        after: Some(ids[0].creation_time),
        last: Some(2),
        owner: None,
    };
    assert_eq!(list(combined).await, [5, 4].map(id));
    let alice = ListFilter {
        owner: Some("alice".into()),
        ..Default::default()
    };
    assert_eq!(list(alice).await, [4, 2, 0].map(id));

    // ARCHIVED jobs are listed only when asked for.
    let mut archived = uws.get(&id(1)).await.unwrap();
    archived.phase = Phase::Archived;
    assert!(uws.store().update(&archived).unwrap());
    assert_eq!(list(ListFilter::default()).await, [5, 4, 3, 2, 0].map(id));
    assert_eq!(list(phases(&[Phase::Archived])).await, [id(1)]);

    let refs = uws.list(ListFilter::default()).await.unwrap();
    validate("list.xml", &xml::job_list(&refs, "http://h/tap/async"));
    validate("empty-list.xml", &xml::job_list(&[], "http://h/tap/async"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_blocks_until_the_phase_changes() {
    // Bounds are loose: the machine may be busy; what matters is returning
    // well before a 30 s timeout.
    let tmp = tempfile::tempdir().unwrap();
    let uws = open(tmp.path()).await;

    // EXECUTING → COMPLETED after 500 ms: a 30 s WAIT returns then.
    let j = uws
        .create(params(&[("SLEEP", "500"), ("PHASE", "RUN")]), None, vec![])
        .await
        .unwrap();
    assert_eq!(j.phase, Phase::Executing);
    let t = Instant::now();
    let w = uws
        .wait(&j.job_id, None, Duration::from_secs(30))
        .await
        .unwrap();
    let took = t.elapsed();
    println!("WAIT on a 500 ms job returned after {took:?}");
    assert_eq!(w.phase, Phase::Completed);
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(5),
        "{took:?}"
    );

    // Final phase: at once.
    let t = Instant::now();
    uws.wait(&j.job_id, None, Duration::from_secs(30))
        .await
        .unwrap();
    assert!(t.elapsed() < Duration::from_secs(2));

    // PHASE differs from the job's: at once.
    let p = uws.create(vec![], None, vec![]).await.unwrap();
    let t = Instant::now();
    let w = uws
        .wait(&p.job_id, Some(Phase::Executing), Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(w.phase, Phase::Pending);
    assert!(t.elapsed() < Duration::from_secs(2));

    // Nothing happens: the wait lasts its timeout.
    let t = Instant::now();
    uws.wait(&p.job_id, None, Duration::from_millis(300))
        .await
        .unwrap();
    let took = t.elapsed();
    assert!(
        took >= Duration::from_millis(290) && took < Duration::from_secs(3),
        "{took:?}"
    );
    // ... capped at max_wait.
    let tmp2 = tempfile::tempdir().unwrap();
    let mut cfg = config(tmp2.path());
    cfg.max_wait = Duration::from_secs(1);
    let capped = Uws::open(cfg, TestExecutor::default()).await.unwrap();
    let c = capped.create(vec![], None, vec![]).await.unwrap();
    let t = Instant::now();
    capped
        .wait(&c.job_id, Some(Phase::Pending), Duration::from_secs(100))
        .await
        .unwrap();
    let took = t.elapsed();
    assert!(
        took >= Duration::from_millis(990) && took < Duration::from_secs(5),
        "{took:?}"
    );

    // PENDING → QUEUED/EXECUTING wakes a waiter on PENDING.
    let waiter = {
        let uws = uws.clone();
        let id = p.job_id.clone();
        tokio::spawn(async move {
            let t = Instant::now();
            (
                uws.wait(&id, Some(Phase::Pending), Duration::from_secs(30))
                    .await,
                t.elapsed(),
            )
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    uws.post(&p.job_id, params(&[("SLEEP", "2000"), ("PHASE", "RUN")]))
        .await
        .unwrap();
    let (w, took) = waiter.await.unwrap();
    assert_ne!(w.unwrap().phase, Phase::Pending);
    assert!(took < Duration::from_secs(5), "{took:?}");

    // Deleting the job wakes its waiters: the job is gone.
    let waiter = {
        let uws = uws.clone();
        let id = p.job_id.clone();
        tokio::spawn(async move { uws.wait(&id, None, Duration::from_secs(30)).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let t = Instant::now();
    uws.delete(&p.job_id).await.unwrap();
    let r = waiter.await.unwrap();
    assert!(matches!(r, Err(UwsError::NoSuchJob(_))), "{r:?}");
    assert!(t.elapsed() < Duration::from_secs(5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_and_limits() {
    let tmp = tempfile::tempdir().unwrap();
    let uws = open(tmp.path()).await; // max_running = 2
    let mut ids = Vec::new();
    for _ in 0..5 {
        let j = uws
            .create(params(&[("SLEEP", "300"), ("PHASE", "RUN")]), None, vec![])
            .await
            .unwrap();
        ids.push(j.job_id);
    }
    let phases = |uws: TestUws, ids: Vec<String>| async move {
        let mut v = Vec::new();
        for id in ids {
            v.push(uws.get(&id).await.unwrap().phase);
        }
        v
    };
    let now = phases(uws.clone(), ids.clone()).await;
    assert_eq!(
        now.iter().filter(|p| **p == Phase::Executing).count(),
        2,
        "{now:?}"
    );
    assert_eq!(
        now.iter().filter(|p| **p == Phase::Queued).count(),
        3,
        "{now:?}"
    );
    let t = Instant::now();
    for id in &ids {
        let j = finished(&uws, id).await;
        assert_eq!(j.phase, Phase::Completed);
        assert!(j.start_time.unwrap() >= j.creation_time);
    }
    println!("5 jobs of 300 ms, 2 at a time: {:?}", t.elapsed());
    assert!(t.elapsed() >= Duration::from_millis(600));

    // A full queue refuses (503); PHASE=RUN at creation leaves no job.
    let tmp2 = tempfile::tempdir().unwrap();
    let mut cfg = config(tmp2.path());
    cfg.max_running = 1;
    cfg.max_queued = 1;
    let small = Uws::open(cfg, TestExecutor::default()).await.unwrap();
    let forever = params(&[("MODE", "forever"), ("PHASE", "RUN")]);
    let a = small.create(forever.clone(), None, vec![]).await.unwrap();
    let b = small.create(forever.clone(), None, vec![]).await.unwrap();
    assert_eq!((a.phase, b.phase), (Phase::Executing, Phase::Queued));
    started(&small, 1).await;
    let e = small
        .create(forever.clone(), None, vec![])
        .await
        .unwrap_err();
    assert!(
        matches!(e, UwsError::Busy(_)) && e.status() == StatusCode::SERVICE_UNAVAILABLE,
        "{e}"
    );
    assert_eq!(small.list(ListFilter::default()).await.unwrap().len(), 2);
    let c = small
        .create(params(&[("MODE", "forever")]), None, vec![])
        .await
        .unwrap();
    assert_eq!(
        small.run(&c.job_id).await.unwrap_err().status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(small.get(&c.job_id).await.unwrap().phase, Phase::Pending);
    // Aborting the executing job starts the queued one.
    small.abort(&a.job_id).await.unwrap();
    assert_eq!(small.get(&b.job_id).await.unwrap().phase, Phase::Executing);
    started(&small, 2).await;
    assert_eq!(small.run(&c.job_id).await.unwrap().phase, Phase::Queued);
    // Deleting a queued job removes it from the queue.
    small.delete(&c.job_id).await.unwrap();
    small.delete(&b.job_id).await.unwrap();
    let ex = small.executor().clone();
    eventually("both executions dropped", || {
        ex.dropped.load(Ordering::SeqCst) == 2
    })
    .await;
    assert_eq!(ex.started.load(Ordering::SeqCst), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_removes_record_and_files() {
    let tmp = tempfile::tempdir().unwrap();
    let uws = open(tmp.path()).await;
    let j = uws
        .create(
            params(&[("TEXT", "x"), ("PHASE", "RUN")]),
            None,
            vec![("t1".into(), bytes::Bytes::from_static(b"<VOTABLE/>"))],
        )
        .await
        .unwrap();
    finished(&uws, &j.job_id).await;
    let dir = uws.job_dir(&j.job_id);
    assert!(dir.join("results/out.txt").is_file());
    assert!(dir.join("uploads").read_dir().unwrap().count() == 1);
    uws.delete(&j.job_id).await.unwrap();
    assert!(!dir.exists());
    assert!(matches!(
        uws.get(&j.job_id).await,
        Err(UwsError::NoSuchJob(_))
    ));
    assert!(matches!(
        uws.delete(&j.job_id).await,
        Err(UwsError::NoSuchJob(_))
    ));

    // A running job: aborted (its future dropped), then removed.
    let r = uws
        .create(
            params(&[("MODE", "forever"), ("PHASE", "RUN")]),
            None,
            vec![],
        )
        .await
        .unwrap();
    started(&uws, 2).await;
    uws.delete(&r.job_id).await.unwrap();
    assert!(!uws.job_dir(&r.job_id).exists());
    let ex = uws.executor().clone();
    eventually("the running job's future is dropped", || {
        ex.dropped.load(Ordering::SeqCst) == 1
    })
    .await;
    assert_eq!(uws.store().count().unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reaper_destroys_expired_jobs() {
    let tmp = tempfile::tempdir().unwrap();
    let uws = open(tmp.path()).await; // reaps every 100 ms
    let done = uws
        .create(params(&[("PHASE", "RUN")]), None, vec![])
        .await
        .unwrap();
    finished(&uws, &done.job_id).await;
    let running = uws
        .create(
            params(&[("MODE", "forever"), ("PHASE", "RUN")]),
            None,
            vec![],
        )
        .await
        .unwrap();
    started(&uws, 2).await;
    let kept = uws.create(vec![], None, vec![]).await.unwrap();
    let past = format_time(&(Utc::now() - TimeDelta::seconds(1)));
    for id in [&done.job_id, &running.job_id] {
        uws.post(id, params(&[("DESTRUCTION", &past)]))
            .await
            .unwrap();
    }
    let t = Instant::now();
    let ex = uws.executor().clone();
    let (store_uws, a, b) = (uws.clone(), done.job_id.clone(), running.job_id.clone());
    eventually("expired jobs destroyed", move || {
        store_uws.store().get(&a).unwrap().is_none() && store_uws.store().get(&b).unwrap().is_none()
    })
    .await;
    println!("reaper: expired jobs gone after {:?}", t.elapsed());
    // The record goes first, then the directory.
    let dirs = [uws.job_dir(&done.job_id), uws.job_dir(&running.job_id)];
    eventually("expired jobs' directories removed", move || {
        dirs.iter().all(|d| !d.exists())
    })
    .await;
    eventually("the expired running job's future is dropped", || {
        ex.dropped.load(Ordering::SeqCst) == 1
    })
    .await;
    assert_eq!(uws.get(&kept.job_id).await.unwrap().phase, Phase::Pending);
    assert_eq!(uws.reap().await.unwrap(), 0);
}

/// The first "server" runs jobs and is killed (its runtime shut down with
/// jobs QUEUED and EXECUTING); the second opens the same directory.
#[test]
fn restart_recovers() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let rt = || {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    };

    let first = rt();
    let (done, executing, queued, pending) = first.block_on(async {
        let mut cfg = config(&dir);
        cfg.max_running = 1;
        let uws = Uws::open(cfg, TestExecutor::default()).await.unwrap();
        let done = uws
            .create(params(&[("TEXT", "kept"), ("PHASE", "RUN")]), None, vec![])
            .await
            .unwrap();
        let done = finished(&uws, &done.job_id).await;
        assert_eq!(done.phase, Phase::Completed);
        let executing = uws
            .create(
                params(&[("MODE", "forever"), ("PHASE", "RUN")]),
                None,
                vec![],
            )
            .await
            .unwrap();
        let queued = uws
            .create(params(&[("PHASE", "RUN")]), None, vec![])
            .await
            .unwrap();
        assert_eq!(executing.phase, Phase::Executing);
        assert_eq!(queued.phase, Phase::Queued);
        let pending = uws.create(vec![], None, vec![]).await.unwrap();
        (done, executing.job_id, queued.job_id, pending.job_id)
    });
    // The server dies: its tasks are dropped without finishing.
    first.shutdown_timeout(Duration::from_secs(5));
    // A directory left without a record (a crash during creation).
    let orphan = dir.join("jobs").join("0123456789abcdef0123456789abcdef");
    std::fs::create_dir_all(orphan.join("results")).unwrap();

    let second = rt();
    second.block_on(async {
        let uws = Uws::open(config(&dir), TestExecutor::default())
            .await
            .unwrap();
        let d = uws.get(&done.job_id).await.unwrap();
        assert_eq!(d, done, "a completed job survives unchanged");
        let (path, _) = uws.result_path(&d, "result").unwrap();
        assert_eq!(std::fs::read_to_string(path).unwrap(), "kept");
        for id in [&executing, &queued] {
            let j = uws.get(id).await.unwrap();
            assert_eq!(j.phase, Phase::Error);
            let e = j.error.unwrap();
            assert_eq!(e.message, SERVER_STOPPED);
            assert_eq!(e.error_type, ErrorType::Transient);
            assert!(j.end_time.is_some());
        }
        assert_eq!(uws.get(&pending).await.unwrap().phase, Phase::Pending);
        assert!(!orphan.exists(), "orphan directory swept");
        // The recovered service runs jobs.
        let j = uws
            .post(&pending, params(&[("PHASE", "RUN")]))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(finished(&uws, &j.job_id).await.phase, Phase::Completed);
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_service_per_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let uws = open(tmp.path()).await;
    let j = uws.create(vec![], None, vec![]).await.unwrap();
    let e = Uws::open(config(tmp.path()), TestExecutor::default())
        .await
        .err()
        .unwrap();
    assert!(e.to_string().contains("jobs.lock"), "{e}");
    // Closing the service releases the directory.
    drop(uws);
    let again = open(tmp.path()).await;
    assert_eq!(again.get(&j.job_id).await.unwrap().phase, Phase::Pending);
}
