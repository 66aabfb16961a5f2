//! The code's arrows match docs/ARCHITECTURE.md: the crates' manifests
//! name exactly the dependencies its `arrows` block draws, none of its
//! `never` arrows exists, and no crate has an import cycle between its
//! modules (a module that uses an item defined in the crate root, while the
//! root uses that module, is a cycle too: an up-call).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The lines of the fenced block ```` ```NAME ```` of `doc`.
fn block<'a>(doc: &'a str, name: &str) -> Vec<&'a str> {
    let open = format!("```{name}\n");
    let start = doc
        .find(&open)
        .unwrap_or_else(|| panic!("docs/ARCHITECTURE.md has no ```{name} block"))
        + open.len();
    let end = start + doc[start..].find("```").expect("an unclosed block");
    doc[start..end]
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect()
}

/// `crate -> a b dev: c`: (crate, dependencies, dev-dependencies).
fn arrow(line: &str) -> (String, BTreeSet<String>, BTreeSet<String>) {
    let (from, to) = line
        .split_once("->")
        .unwrap_or_else(|| panic!("not an arrow: {line}"));
    let (deps, dev) = match to.split_once("dev:") {
        Some((d, v)) => (d, v),
        None => (to, ""),
    };
    let set = |s: &str| s.split_whitespace().map(str::to_string).collect();
    (from.trim().to_string(), set(deps), set(dev))
}

/// The workspace members named in the root manifest.
fn members(root: &Path) -> Vec<String> {
    let m = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let line = m
        .lines()
        .find(|l| l.trim_start().starts_with("members"))
        .expect("a members line");
    line.split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// The `astrolake-*` crates a manifest's section names (without the prefix).
fn astrolake_deps(manifest: &str, section: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut inside = false;
    for line in manifest.lines() {
        let t = line.trim();
        if t.starts_with('[') {
            inside = t == format!("[{section}]");
            continue;
        }
        if inside {
            if let Some(rest) = t.strip_prefix("astrolake-") {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                    .collect();
                out.insert(name);
            }
        }
    }
    out
}

#[test]
fn crate_arrows_are_the_pictures() {
    let root = workspace();
    let doc = std::fs::read_to_string(root.join("docs/ARCHITECTURE.md")).unwrap();
    let drawn: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> = block(&doc, "arrows")
        .into_iter()
        .map(|l| {
            let (c, d, v) = arrow(l);
            (c, (d, v))
        })
        .collect();
    let members: BTreeSet<String> = members(&root).into_iter().collect();
    assert_eq!(
        drawn.keys().cloned().collect::<BTreeSet<_>>(),
        members,
        "docs/ARCHITECTURE.md draws other crates than the workspace has"
    );
    let mut wrong = Vec::new();
    for c in &members {
        let m = std::fs::read_to_string(root.join(c).join("Cargo.toml")).unwrap();
        let deps = astrolake_deps(&m, "dependencies");
        let dev = astrolake_deps(&m, "dev-dependencies");
        let (want_deps, want_dev) = &drawn[c];
        if &deps != want_deps || &dev != want_dev {
            wrong.push(format!(
                "{c}: the manifest uses {deps:?} (dev: {dev:?}), the page draws {want_deps:?} (dev: {want_dev:?})"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    let mut broken = Vec::new();
    for line in block(&doc, "never") {
        let (from, never, _) = arrow(line);
        for (c, (deps, dev)) in &drawn {
            if from != "*" && &from != c {
                continue;
            }
            for n in never
                .iter()
                .filter(|n| deps.contains(*n) || dev.contains(*n))
            {
                broken.push(format!("{c} -> {n} (never: {line})"));
            }
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

/// A crate's module graph: top-level module → (module it uses, where).
type Graph = BTreeMap<String, BTreeMap<String, String>>;

const ROOT: &str = "(crate root)";

/// What a source file says, without comments and test modules.
fn code(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod ") {
        Some(i) => &text[..i],
        None => text,
    };
    text.lines()
        .map(|l| match l.find("//") {
            // `//` inside a string ("http://") only hides the rest of
            // its line.
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn ident(s: &str) -> String {
    s.chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// The names `crate::…` paths in `code` start with (`crate::{a, b::c}`
/// gives `a` and `b`).
fn crate_refs(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let before = rest[..i].chars().next_back();
        rest = &rest[i + "crate::".len()..];
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for part in group[..end].split(',') {
                let name = ident(part.trim());
                if !name.is_empty() {
                    out.push(name);
                }
            }
        } else {
            let name = ident(rest);
            if !name.is_empty() {
                out.push(name);
            }
        }
    }
    out
}

/// The module graph of the crate whose sources are in `src`.
fn module_graph(src: &Path) -> Graph {
    let root_file = ["lib.rs", "main.rs"]
        .iter()
        .map(|f| src.join(f))
        .find(|p| p.exists())
        .expect("a lib.rs or main.rs");
    let root_code = code(&std::fs::read_to_string(&root_file).unwrap());
    let mut modules = BTreeSet::new();
    let mut reexported: BTreeMap<String, String> = BTreeMap::new();
    let mut g = Graph::new();
    // `mod x;` declares, `pub use x::{A, B};` (over several lines) uses x
    // and names A and B as x's.
    let statements: Vec<&str> = root_code.split(';').collect();
    for line in root_code.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let decl = match words.as_slice() {
            ["mod", m] | [_, "mod", m] => m.strip_suffix(';'),
            _ => None,
        };
        if let Some(m) = decl {
            modules.insert(ident(m));
        }
    }
    for st in &statements {
        let st = st.trim();
        let Some(path) = st
            .strip_prefix("pub use ")
            .or_else(|| st.strip_prefix("use "))
        else {
            continue;
        };
        let path = path.strip_prefix("self::").unwrap_or(path);
        let m = ident(path);
        if !modules.contains(&m) {
            continue;
        }
        g.entry(ROOT.into())
            .or_default()
            .insert(m.clone(), root_file.display().to_string());
        let names = path.split("::").last().unwrap_or("");
        for n in names.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
            if !n.is_empty() && n != "self" {
                reexported.insert(n.to_string(), m.clone());
            }
        }
    }
    // The root's own code using a module by its path.
    for m in &modules {
        if root_code.contains(&format!("{m}::")) {
            g.entry(ROOT.into())
                .or_default()
                .entry(m.clone())
                .or_insert_with(|| root_file.display().to_string());
        }
    }
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            if p.extension().is_none_or(|x| x != "rs") || p == root_file {
                continue;
            }
            let rel = p.strip_prefix(src).unwrap();
            let first = rel
                .components()
                .next()
                .unwrap()
                .as_os_str()
                .to_string_lossy();
            let top = first.trim_end_matches(".rs").to_string();
            if !modules.contains(&top) {
                continue; // a binary's own file, or not compiled
            }
            let text = code(&std::fs::read_to_string(&p).unwrap());
            for name in crate_refs(&text) {
                let to = if modules.contains(&name) {
                    name.clone()
                } else {
                    reexported
                        .get(&name)
                        .cloned()
                        .unwrap_or_else(|| ROOT.to_string())
                };
                if to != top {
                    g.entry(top.clone())
                        .or_default()
                        .entry(to)
                        .or_insert_with(|| format!("{} (crate::{name})", rel.display()));
                }
            }
        }
    }
    g
}

/// The cycles of `g`: each as its path of modules with the evidence.
fn cycles(g: &Graph) -> Vec<String> {
    // Tarjan's strongly connected components.
    struct S<'a> {
        g: &'a Graph,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        out: Vec<Vec<&'a str>>,
    }
    fn visit<'a>(s: &mut S<'a>, v: &'a str) {
        let i = s.index.len();
        s.index.insert(v, i);
        s.low.insert(v, i);
        s.stack.push(v);
        s.on.insert(v);
        let g = s.g;
        for w in g.get(v).into_iter().flat_map(|m| m.keys()) {
            let w = w.as_str();
            if !s.index.contains_key(w) {
                visit(s, w);
                let l = s.low[w].min(s.low[v]);
                s.low.insert(v, l);
            } else if s.on.contains(w) {
                let l = s.index[w].min(s.low[v]);
                s.low.insert(v, l);
            }
        }
        if s.low[v] == s.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on.remove(w);
                comp.push(w);
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                s.out.push(comp);
            }
        }
    }
    let mut s = S {
        g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in g.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.out
        .iter()
        .map(|comp| {
            let set: BTreeSet<&str> = comp.iter().copied().collect();
            let edges: Vec<String> = comp
                .iter()
                .flat_map(|a| {
                    g.get(*a)
                        .into_iter()
                        .flat_map(|m| m.iter())
                        .filter(|(b, _)| set.contains(b.as_str()))
                        .map(move |(b, at)| format!("{a} -> {b} at {at}"))
                })
                .collect();
            edges.join("; ")
        })
        .collect()
}

#[test]
fn no_crate_has_an_import_cycle() {
    let root = workspace();
    let mut found = Vec::new();
    for c in members(&root) {
        for cycle in cycles(&module_graph(&root.join(&c).join("src"))) {
            found.push(format!("{c}: {cycle}"));
        }
    }
    assert!(found.is_empty(), "import cycles:\n{}", found.join("\n"));
}

#[test]
fn the_cycle_check_finds_cycles_and_up_calls() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    let write = |name: &str, text: &str| {
        let p = src.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    write(
        "lib.rs",
        "pub mod a;\npub mod b;\npub mod c;\npub use c::{\n    Thing,\n};\npub fn helper() {}\n",
    );
    write("a/mod.rs", "use crate::b::B;\n// crate::c in a comment\n");
    write("b.rs", "use crate::{a, Thing};\n");
    write(
        "c.rs",
        "pub struct Thing;\nfn f() { crate::helper() }\n#[cfg(test)]\nmod tests { use crate::a; }\n",
    );
    let g = module_graph(src);
    let found = cycles(&g);
    // a <-> b directly; c -> root (an up-call to `helper`) while the root
    // uses c (it re-exports c's Thing).
    assert_eq!(found.len(), 2, "{found:?} in {g:?}");
    let all = found.join("\n");
    assert!(all.contains("a -> b") && all.contains("b -> a"), "{all}");
    assert!(all.contains("c -> (crate root)"), "{all}");
    assert!(!all.contains("a -> c"), "comments are not code: {all}");
    assert!(!all.contains("c -> a"), "tests are not code: {all}");
    assert_eq!(
        g["b"].keys().collect::<Vec<_>>(),
        ["a", "c"],
        "crate::Thing is c's"
    );
    // Without the up-call and the a <-> b pair there is none.
    write("c.rs", "pub struct Thing;\n");
    write("b.rs", "use crate::Thing;\n");
    assert!(cycles(&module_graph(src)).is_empty());
}
