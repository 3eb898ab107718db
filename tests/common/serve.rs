//! The real `depot serve` binary in a child process: started with flags (optionally under a shell
//! `ulimit -n`), ready once its lock file records its address, stopped with SIGTERM; and what the
//! kernel says about it (peak memory, open files).

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Served {
    pub dir: tempfile::TempDir,
    pub child: Child,
    pub addr: SocketAddr,
}

impl Served {
    /// Starts `depot serve --listen 127.0.0.1:0 --data DIR ARGS…`, with the open-file limit set to
    /// `nofile` first when given (through `sh -c 'ulimit -n N; exec depot …'`).
    pub fn start(args: &[&str], nofile: Option<u32>) -> Served {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().to_str().expect("a UTF-8 temp dir").to_string();
        let bin = env!("CARGO_BIN_EXE_depot");
        let mut argv = vec![bin, "serve", "--listen", "127.0.0.1:0", "--data", &data];
        argv.extend_from_slice(args);
        let mut cmd = match nofile {
            Some(n) => {
                let mut c = Command::new("sh");
                c.arg("-c").arg(format!("ulimit -n {n} && exec \"$@\"")).arg("sh").args(&argv);
                c
            }
            None => {
                let mut c = Command::new(argv[0]);
                c.args(&argv[1..]);
                c
            }
        };
        let mut child = cmd.stderr(Stdio::null()).stdout(Stdio::null()).spawn().expect("spawn depot serve");
        let deadline = Instant::now() + Duration::from_secs(30);
        let addr = loop {
            let text = std::fs::read_to_string(dir.path().join("depot.lock")).unwrap_or_default();
            if let Some(a) = text.lines().find_map(|l| l.strip_prefix("addr=")) {
                break super::raw::addr_of(a);
            }
            if let Some(st) = child.try_wait().expect("wait") {
                panic!("depot serve exited with {st} before it served");
            }
            assert!(Instant::now() < deadline, "depot serve did not start");
            std::thread::sleep(Duration::from_millis(10));
        };
        Served { dir, child, addr }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A field of /proc/PID/status in KiB (`VmHWM`, `VmRSS`).
    pub fn status_kib(&self, field: &str) -> u64 {
        let text = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).expect("the server's status");
        text.lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("no {field} in {text}"))
    }

    /// Sends SIGTERM and waits for the process to exit; how long that took and how it exited.
    pub fn terminate(&mut self) -> (Duration, std::process::ExitStatus) {
        let start = Instant::now();
        let st = Command::new("kill").args(["-TERM", &self.pid().to_string()]).status().expect("kill");
        assert!(st.success());
        let status = self.child.wait().expect("wait for depot serve");
        (start.elapsed(), status)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
