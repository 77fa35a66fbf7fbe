//! PyTorch's raw step of the same models, timed by the parts' reference
//! scripts (`crates/<part>/reference/*.py step … --json`, shared code in
//! `crates/mnist-train/reference/raw_step.py`), so that `bench` can run it
//! in turn with its own rounds and print the ratio: speed is compared in
//! pairs, on the same machine at the same moment, never with figures
//! measured elsewhere.

use std::path::{Path, PathBuf};
use std::process::Command;

use mnist_data::mnist::workspace_root;

/// How to get a Python with PyTorch, for the message when there is none.
pub const HOW_TO_GET_TORCH: &str = "python3 -m venv ~/torch29 && ~/torch29/bin/pip install \
     torch==2.9.0 numpy, then `--python ~/torch29/bin/python`";

/// A Python that imports torch, and a part's reference script.
#[derive(Clone, Debug)]
pub struct PyTorch {
    python: PathBuf,
    script: PathBuf,
    /// `torch.__version__`.
    pub version: String,
    /// PyTorch's device: `cpu`, or `cuda:N` paired with `--backend cuda`.
    pub device: String,
    /// CPU threads PyTorch may use (`OMP_NUM_THREADS`): as many as ours.
    pub threads: usize,
}

/// One model's step as the script timed it (milliseconds).
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
pub struct ReferenceStep {
    pub model: String,
    pub raw_ms: f64,
    pub forward_ms: f64,
    pub backward_ms: f64,
    pub optimizer_ms: f64,
}

impl PyTorch {
    /// `python` (else `$PYTHON`, else `python3`) if it imports torch and
    /// numpy, with `script` (relative to the workspace); else why not and
    /// how to get it, in one line.
    pub fn find(
        python: Option<&Path>,
        script: &str,
        device: &str,
        threads: usize,
    ) -> Result<Self, String> {
        let python = python
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os("PYTHON").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from("python3"));
        let script_path = workspace_root().join(script);
        if !script_path.is_file() {
            return Err(format!(
                "no paired PyTorch step: the reference script {} is not there",
                script_path.display()
            ));
        }
        let probe = Command::new(&python)
            .args(["-c", "import numpy, torch; print(torch.__version__)"])
            .output();
        let unavailable = |why: String| {
            format!(
                "no paired PyTorch step: `{}` {why}. For it: {HOW_TO_GET_TORCH}",
                python.display()
            )
        };
        match probe {
            Err(error) => Err(unavailable(format!("does not run ({error})"))),
            Ok(out) if !out.status.success() => {
                let stderr = String::from_utf8_lossy(&out.stderr);
                let last = stderr.lines().last().unwrap_or("failed").trim().to_string();
                Err(unavailable(format!(
                    "cannot import torch and numpy ({last})"
                )))
            }
            Ok(out) => Ok(Self {
                python,
                script: script_path,
                version: String::from_utf8_lossy(&out.stdout).trim().to_string(),
                device: device.to_string(),
                threads,
            }),
        }
    }

    /// The command as a person would type it, for the table's heading.
    pub fn command(&self, steps: usize) -> String {
        let script = self
            .script
            .strip_prefix(workspace_root())
            .unwrap_or(&self.script);
        format!(
            "OMP_NUM_THREADS={} {} {} step {steps} --rounds 1 --device {}",
            self.threads,
            self.python.display(),
            script.display(),
            self.device
        )
    }

    /// One round of the script: each of its models' raw step over `steps`
    /// steps.
    pub fn time_round(&self, steps: usize) -> Result<Vec<ReferenceStep>, String> {
        let out = Command::new(&self.python)
            .arg(&self.script)
            .args(["step", &steps.to_string(), "--rounds", "1", "--json"])
            .args(["--device", &self.device])
            .env("OMP_NUM_THREADS", self.threads.to_string())
            .env("MKL_NUM_THREADS", self.threads.to_string())
            .output()
            .map_err(|e| format!("{}: {e}", self.script.display()))?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            return Err(format!(
                "{} failed: {}",
                self.script.display(),
                stderr.lines().last().unwrap_or("no message").trim()
            ));
        }
        parse_steps(&String::from_utf8_lossy(&out.stdout))
            .map_err(|e| format!("{}: {e}", self.script.display()))
    }
}

/// The script's `--json` output: one object per line.
pub fn parse_steps(stdout: &str) -> Result<Vec<ReferenceStep>, String> {
    let steps = stdout
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            serde_json::from_str(line).map_err(|e| format!("unreadable line {line:?}: {e}"))
        })
        .collect::<Result<Vec<ReferenceStep>, String>>()?;
    if steps.is_empty() {
        return Err("printed no step".into());
    }
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scripts_json_lines_are_read_and_other_output_refused() {
        let line = r#"{"model": "cnn", "torch": "2.9.0", "threads": 2, "device": "cpu", "raw_ms": 6.5, "forward_ms": 3.0, "backward_ms": 3.0, "optimizer_ms": 0.5}"#;
        let steps = parse_steps(&format!("{line}\n\n{}\n", line.replace("cnn", "mlp"))).unwrap();
        assert_eq!(steps.len(), 2);
        assert_eq!((steps[0].model.as_str(), steps[0].raw_ms), ("cnn", 6.5));
        assert_eq!(steps[1].model, "mlp");
        let human = "PyTorch 2.9.0, 2 threads: raw step 6.5 ms";
        assert!(parse_steps(human).unwrap_err().contains("unreadable line"));
        assert!(parse_steps("").unwrap_err().contains("no step"));
    }

    #[test]
    fn a_python_that_does_not_exist_says_how_to_get_torch() {
        let missing = Path::new("/nonexistent/python3");
        let error = PyTorch::find(
            Some(missing),
            "crates/cnn/reference/course_cnn.py",
            "cpu",
            2,
        )
        .unwrap_err();
        assert!(error.contains("/nonexistent/python3"), "{error}");
        assert!(error.contains("pip install torch==2.9.0"), "{error}");
    }
}
