"""A process that stops itself (SIGSTOP) stays stopped until its parent sends SIGCONT, as it
would untraced: the parent looks at it half a second later and prints its state, the child
prints how long it was stopped."""
import os, signal, time, sys
pid = os.fork()
if pid == 0:
    t = time.monotonic()
    os.kill(os.getpid(), signal.SIGSTOP)
    print("child resumed after", round(time.monotonic() - t, 2), flush=True)
    os._exit(0)
time.sleep(0.5)
with open(f"/proc/{pid}/stat") as f: state = f.read().split()[2]
print("child state while stopped:", state, flush=True)
os.kill(pid, signal.SIGCONT)
os.waitpid(pid, 0)
