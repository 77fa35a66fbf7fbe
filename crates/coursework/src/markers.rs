//! Exercise markers in the reference code:
//!
//! ```text
//!     // BEGIN EXERCISE p1.relu uses z
//!     z.max(F::zero())
//!     // END EXERCISE
//! }
//! ```
//!
//! A marked block is the whole tail of a `{ … }` block, so the stub that
//! replaces it, `todo!("p1.relu: <hint>")`, has the block's type. Names after
//! `uses` are bindings the solution reads and nothing else would: the stub
//! mentions them (`let _ = (&z,);`) so the learner edition compiles without
//! warnings.

use std::path::{Path, PathBuf};

pub const BEGIN: &str = "// BEGIN EXERCISE ";
pub const END: &str = "// END EXERCISE";

/// One marked block of a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    pub id: String,
    /// Bindings the stub must mention.
    pub uses: Vec<String>,
    /// Line numbers (0-based) of the BEGIN and END markers.
    pub begin: usize,
    pub end: usize,
    pub indent: String,
}

#[derive(Debug, thiserror::Error)]
#[error("{}:{line}: {message}", path.display())]
pub struct MarkerError {
    pub path: PathBuf,
    /// 1-based, as editors count.
    pub line: usize,
    pub message: String,
}

/// The marked blocks of `text` (the contents of `path`), in order.
pub fn blocks(path: &Path, text: &str) -> Result<Vec<Block>, MarkerError> {
    let error = |line: usize, message: String| MarkerError {
        path: path.to_path_buf(),
        line: line + 1,
        message,
    };
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    let mut open: Option<(usize, String, Vec<String>, String)> = None;
    for (n, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix(BEGIN) {
            if let Some((at, id, ..)) = &open {
                return Err(error(
                    n,
                    format!("BEGIN EXERCISE inside {id}, opened on line {}", at + 1),
                ));
            }
            let mut words = rest.split_whitespace();
            let id = words.next().unwrap_or_default().to_string();
            let uses = match words.next() {
                None => Vec::new(),
                Some("uses") => words.map(|w| w.trim_end_matches(',').to_string()).collect(),
                Some(other) => {
                    return Err(error(
                        n,
                        format!("expected `uses` after the id, found {other:?}"),
                    ));
                }
            };
            if uses
                .iter()
                .any(|u| u.is_empty() || !u.chars().all(|c| c == '_' || c.is_alphanumeric()))
            {
                return Err(error(n, "`uses` takes plain binding names".into()));
            }
            let indent = line[..line.len() - trimmed.len()].to_string();
            open = Some((n, id, uses, indent));
        } else if trimmed.starts_with(END) {
            let Some((begin, id, uses, indent)) = open.take() else {
                return Err(error(n, "END EXERCISE without a BEGIN".into()));
            };
            let closes = lines[n + 1..]
                .iter()
                .find(|l| !l.trim().is_empty())
                .is_some_and(|l| l.trim_start().starts_with('}'));
            if !closes {
                return Err(error(
                    n,
                    format!("{id}'s block must end its enclosing {{ … }} block (a `}}` next)"),
                ));
            }
            found.push(Block {
                id,
                uses,
                begin,
                end: n,
                indent,
            });
        }
    }
    if let Some((begin, id, ..)) = open {
        return Err(error(begin, format!("{id}'s block has no END EXERCISE")));
    }
    Ok(found)
}

/// `text` with every block not in `keep` replaced by its stub; `hint` gives
/// each id's hint.
pub fn stub_out(
    path: &Path,
    text: &str,
    keep: &dyn Fn(&str) -> bool,
    hint: &dyn Fn(&str) -> Option<String>,
) -> Result<String, MarkerError> {
    let blocks = blocks(path, text)?;
    let lines: Vec<&str> = text.lines().collect();
    let mut out = String::with_capacity(text.len());
    let mut next = 0;
    for block in &blocks {
        if keep(&block.id) {
            continue;
        }
        let Some(hint) = hint(&block.id) else {
            return Err(MarkerError {
                path: path.to_path_buf(),
                line: block.begin + 1,
                message: format!("{} is not an exercise of exercises.toml", block.id),
            });
        };
        for line in &lines[next..block.begin] {
            out.push_str(line);
            out.push('\n');
        }
        let indent = &block.indent;
        if !block.uses.is_empty() {
            let refs: Vec<String> = block.uses.iter().map(|u| format!("&{u}")).collect();
            let tuple = if refs.len() == 1 {
                format!("({},)", refs[0])
            } else {
                format!("({})", refs.join(", "))
            };
            out.push_str(&format!("{indent}let _ = {tuple};\n"));
        }
        out.push_str(&format!("{indent}todo!(\"{}: {hint}\")\n", block.id));
        next = block.end + 1;
    }
    for line in &lines[next..] {
        out.push_str(line);
        out.push('\n');
    }
    if !text.ends_with('\n') {
        out.pop();
    }
    Ok(out)
}

/// One runtime-switched version of a block in an instrumented file.
pub struct Variant {
    /// The switch (`COURSEWORK_VARIANTS` holds the ones turned on).
    pub key: String,
    /// The block's code in this version.
    pub body: String,
}

/// `text` with every block behind runtime switches: the variants that
/// `variants` gives for it (block, its code), then the stub (switch
/// `stub:<id>`), else the reference code. One build then runs the reference,
/// any mix of stubs, and every variant.
pub fn instrument(
    path: &Path,
    text: &str,
    variants: &mut dyn FnMut(&Block, &str) -> Vec<Variant>,
    hint: &dyn Fn(&str) -> Option<String>,
) -> Result<String, MarkerError> {
    let blocks = blocks(path, text)?;
    let lines: Vec<&str> = text.lines().collect();
    let mut out = String::with_capacity(2 * text.len());
    let mut next = 0;
    for block in &blocks {
        let Some(hint) = hint(&block.id) else {
            return Err(MarkerError {
                path: path.to_path_buf(),
                line: block.begin + 1,
                message: format!("{} is not an exercise of exercises.toml", block.id),
            });
        };
        for line in &lines[next..block.begin] {
            out.push_str(line);
            out.push('\n');
        }
        let body = lines[block.begin + 1..block.end].join("\n");
        let indent = &block.indent;
        let mut branches = variants(block, &body);
        branches.push(Variant {
            key: format!("stub:{}", block.id),
            body: format!("{indent}todo!(\"{}: {hint}\")", block.id),
        });
        for (n, variant) in branches.iter().enumerate() {
            let keyword = if n == 0 { "if" } else { "} else if" };
            out.push_str(&format!(
                "{indent}{keyword} {{\n\
                 {indent}    static ON: ::std::sync::OnceLock<bool> = ::std::sync::OnceLock::new();\n\
                 {indent}    *ON.get_or_init(|| ::std::env::var(\"COURSEWORK_VARIANTS\")\n\
                 {indent}        .is_ok_and(|v| v.split(',').any(|k| k == \"{}\")))\n\
                 {indent}}} {{\n{}\n",
                variant.key, variant.body
            ));
        }
        out.push_str(&format!("{indent}}} else {{\n{body}\n{indent}}}\n"));
        next = block.end + 1;
    }
    for line in &lines[next..] {
        out.push_str(line);
        out.push('\n');
    }
    Ok(out)
}

/// The text of `id`'s blocks in `text`, markers included, in order.
pub fn solution_blocks(path: &Path, text: &str, id: &str) -> Result<Vec<String>, MarkerError> {
    let lines: Vec<&str> = text.lines().collect();
    Ok(blocks(path, text)?
        .into_iter()
        .filter(|b| b.id == id)
        .map(|b| lines[b.begin..=b.end].join("\n"))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = "fn f(z: f64, w: f64) -> f64 {
    let y = w;
    // BEGIN EXERCISE p1.one uses z
    z * y
    // END EXERCISE
}

fn g() -> u8 {
    match 1 {
        1 => {
            // BEGIN EXERCISE p1.two
            1
            // END EXERCISE
        }
        _ => 0,
    }
}
";

    fn hint(id: &str) -> Option<String> {
        (id != "p1.unknown").then(|| format!("hint of {id}"))
    }

    #[test]
    fn stubs_replace_blocks_and_mention_their_uses() {
        let out = stub_out(Path::new("f.rs"), SOURCE, &|_| false, &hint).expect("valid markers");
        assert!(out.contains("    let _ = (&z,);\n    todo!(\"p1.one: hint of p1.one\")\n}"));
        assert!(out.contains("            todo!(\"p1.two: hint of p1.two\")\n        }"));
        assert!(!out.contains("z * y") && !out.contains("EXERCISE"));
        let kept = stub_out(Path::new("f.rs"), SOURCE, &|id| id == "p1.two", &hint).expect("valid");
        assert!(kept.contains("BEGIN EXERCISE p1.two") && !kept.contains("z * y"));
        let all = stub_out(Path::new("f.rs"), SOURCE, &|_| true, &hint).expect("valid");
        assert_eq!(all, SOURCE);
    }

    #[test]
    fn bad_markers_are_named_with_their_line() {
        let cases = [
            (
                "fn f() {\n// BEGIN EXERCISE p1.a\n1\n}\n",
                "f.rs:2: p1.a's block has no END",
            ),
            (
                "fn f() {\n1\n// END EXERCISE\n}\n",
                "f.rs:3: END EXERCISE without a BEGIN",
            ),
            (
                "fn f() {\n// BEGIN EXERCISE p1.a\nlet x = 1;\n// END EXERCISE\nx\n}\n",
                "f.rs:4: p1.a's block must end its enclosing",
            ),
            (
                "fn f() {\n// BEGIN EXERCISE p1.a\n// BEGIN EXERCISE p1.b\n",
                "f.rs:3: BEGIN EXERCISE inside p1.a, opened on line 2",
            ),
            (
                "fn f() {\n// BEGIN EXERCISE p1.a with x\n",
                "f.rs:2: expected `uses`",
            ),
        ];
        for (text, message) in cases {
            let error = blocks(Path::new("f.rs"), text).expect_err(message);
            assert!(
                error.to_string().starts_with(message),
                "{error} ≠ {message}"
            );
        }
        let unknown = "fn f() {\n    // BEGIN EXERCISE p1.unknown\n    1\n    // END EXERCISE\n}\n";
        let error =
            stub_out(Path::new("f.rs"), unknown, &|_| false, &hint).expect_err("unknown id");
        assert_eq!(
            error.to_string(),
            "f.rs:2: p1.unknown is not an exercise of exercises.toml"
        );
    }

    #[test]
    fn instrumented_blocks_switch_between_variants_stub_and_reference() {
        let mut variants = |block: &Block, body: &str| {
            if block.id == "p1.one" {
                vec![Variant {
                    key: "p1.one/plus".into(),
                    body: body.replace("z * y", "z + y"),
                }]
            } else {
                Vec::new()
            }
        };
        let out = instrument(Path::new("f.rs"), SOURCE, &mut variants, &hint).expect("valid");
        let plus = out
            .find("k == \"p1.one/plus\"")
            .expect("the mutant's switch");
        let stub = out.find("k == \"stub:p1.one\"").expect("the stub's switch");
        let reference = out.rfind("z * y").expect("the reference");
        assert!(plus < out.find("z + y").expect("the mutant") && plus < stub && stub < reference);
        assert!(out.contains("todo!(\"p1.one: hint of p1.one\")"));
        assert!(out.contains("k == \"stub:p1.two\""));
        assert!(!out.contains("EXERCISE"));
        assert_eq!(out.matches("} else {").count(), 2, "{out}");
    }

    #[test]
    fn solution_blocks_are_returned_with_their_markers() {
        let blocks = solution_blocks(Path::new("f.rs"), SOURCE, "p1.one").expect("valid");
        assert_eq!(
            blocks,
            ["    // BEGIN EXERCISE p1.one uses z\n    z * y\n    // END EXERCISE"]
        );
    }
}
