//! ffmpeg child processes that cannot outlive their owner: killed when their handle drops
//! (a client went away, the server shuts down) and then reaped, and on Linux killed by the
//! kernel if the server itself dies (PR_SET_PDEATHSIG), so no ffmpeg is ever orphaned.

use std::io;
use tokio::process::{Child, Command};

/// A running child that is killed and reaped when dropped.
pub struct ChildGuard {
    child: Option<Child>,
    /// Released only once the child is gone (e.g. a concurrency permit).
    token: Option<Box<dyn Send + 'static>>,
}

impl ChildGuard {
    /// Spawns `cmd` (with `kill_on_drop`, and the parent-death signal on Linux).
    pub fn spawn(cmd: &mut Command) -> io::Result<ChildGuard> {
        cmd.kill_on_drop(true);
        #[cfg(target_os = "linux")]
        // SAFETY: the closure runs between fork and exec and only makes one system call
        // (prctl), which is async-signal-safe.
        unsafe {
            cmd.pre_exec(|| {
                rustix::process::set_parent_process_death_signal(Some(
                    rustix::process::Signal::KILL,
                ))
                .map_err(io::Error::from)
            });
        }
        Ok(ChildGuard {
            child: Some(cmd.spawn()?),
            token: None,
        })
    }

    /// Keeps `token` (a semaphore permit) until the child has exited and been reaped, so a
    /// cap on processes holds even while a killed child is still dying.
    pub fn hold(&mut self, token: impl Send + 'static) {
        self.token = Some(Box::new(token));
    }

    /// The child, for its pipes and `wait`.
    pub fn child(&mut self) -> &mut Child {
        // Only `Drop` takes it out.
        self.child.as_mut().expect("child present until drop")
    }

    /// The process id, while it runs.
    pub fn id(&self) -> Option<u32> {
        self.child.as_ref().and_then(Child::id)
    }

    /// Kills the child now and waits for it to exit.
    pub async fn kill(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill().await;
        }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let token = self.token.take();
        if matches!(child.try_wait(), Ok(Some(_))) {
            return;
        }
        let _ = child.start_kill();
        // Reap it so that no zombie is left behind (tokio would also do it eventually), and
        // only then let the token go.
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                let _ = child.wait().await;
                drop(token);
            });
        }
    }
}
