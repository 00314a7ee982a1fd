//! All-or-nothing output directories: a package is written into a hidden staging directory
//! beside OUTDIR and renamed into place only when complete; a failure (or a drop before
//! [`Staging::commit`]) removes the staging directory, so OUTDIR never holds a half package.

use anyhow::{bail, Context, Result};
use std::fs;
use std::path::{Path, PathBuf};

/// A staging directory that becomes `target` on [`Staging::commit`].
pub struct Staging {
    dir: PathBuf,
    target: PathBuf,
    committed: bool,
}

/// Whether `dir` is missing or an empty directory.
fn missing_or_empty(dir: &Path) -> Result<bool> {
    match fs::read_dir(dir) {
        Ok(mut entries) => Ok(entries.next().is_none()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", dir.display())),
    }
}

/// `parent/.name.suffix-PID`, beside `target`.
fn sibling(target: &Path, suffix: &str) -> Result<PathBuf> {
    let name = target
        .file_name()
        .and_then(|n| n.to_str())
        .with_context(|| format!("{} has no usable directory name", target.display()))?;
    let parent = target.parent().unwrap_or(Path::new(""));
    Ok(parent.join(format!(".{name}.{suffix}-{}", std::process::id())))
}

impl Staging {
    /// Checks that `target` may be written (missing, empty, or `force`) and creates the
    /// staging directory beside it (creating missing parents).
    pub fn new(target: &Path, force: bool) -> Result<Self> {
        if target.exists() && !target.is_dir() {
            bail!("{} exists and is not a directory", target.display());
        }
        if !force && !missing_or_empty(target)? {
            bail!(
                "{} is not empty (use --force to replace it)",
                target.display()
            );
        }
        let dir = sibling(target, "pack")?;
        if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(Staging {
            dir,
            target: target.to_path_buf(),
            committed: false,
        })
    }

    /// The staging directory to write into.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Moves the staging directory to the target, replacing what was there.
    pub fn commit(mut self) -> Result<()> {
        let old = if self.target.exists() {
            let old = sibling(&self.target, "old")?;
            let _ = fs::remove_dir_all(&old);
            fs::rename(&self.target, &old)
                .with_context(|| format!("cannot replace {}", self.target.display()))?;
            Some(old)
        } else {
            None
        };
        if let Err(e) = fs::rename(&self.dir, &self.target) {
            if let Some(old) = &old {
                let _ = fs::rename(old, &self.target);
            }
            return Err(e).with_context(|| format!("cannot create {}", self.target.display()));
        }
        self.committed = true;
        if let Some(old) = old {
            let _ = fs::remove_dir_all(old);
        }
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("frameseek-staging-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).expect("mkdir");
        d
    }

    #[test]
    fn commits_or_leaves_nothing() {
        let root = tmp("a");
        let out = root.join("nested/out");
        {
            let s = Staging::new(&out, false).expect("staging");
            fs::write(s.path().join("x"), b"1").expect("write");
            // Dropped without commit.
        }
        assert!(!out.exists());
        assert_eq!(fs::read_dir(root.join("nested")).expect("dir").count(), 0);
        let s = Staging::new(&out, false).expect("staging");
        fs::write(s.path().join("x"), b"1").expect("write");
        s.commit().expect("commit");
        assert_eq!(fs::read(out.join("x")).expect("read"), b"1");
        // Non-empty: refused without force, replaced with it.
        assert!(Staging::new(&out, false).is_err());
        let s = Staging::new(&out, true).expect("staging");
        fs::write(s.path().join("y"), b"2").expect("write");
        s.commit().expect("commit");
        assert!(!out.join("x").exists());
        assert_eq!(fs::read(out.join("y")).expect("read"), b"2");
        assert_eq!(fs::read_dir(root.join("nested")).expect("dir").count(), 1);
        let _ = fs::remove_dir_all(root);
    }
}
