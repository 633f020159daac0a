/* HABIT: prefork: two workers block in accept(); one echoes, the parent kills the other in accept() (SIGTERM) */
#include "../../habit.h"

static void worker(int listener)
{
    int conn = accept_one(listener);
    echo(conn);
    close_or_die(conn);
    close_or_die(listener);
    _exit(0);
}

int main(int argc, char *argv[])
{
    need_args(argc, argv, 3, "HOST PORT");
    int listener = listen_on(argv[1], argv[2]);
    pid_t workers[2];
    for (int i = 0; i < 2; i++) {
        workers[i] = fork();
        if (workers[i] < 0)
            die("fork");
        if (workers[i] == 0)
            worker(listener);
    }
    int status;
    pid_t first = waitpid(-1, &status, 0);
    if (first < 0)
        die("waitpid");
    int ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    pid_t other = first == workers[0] ? workers[1] : workers[0];
    if (kill(other, SIGTERM) < 0)
        die("kill");
    if (waitpid(other, &status, 0) < 0)
        die("waitpid");
    close_or_die(listener);
    return ok ? 0 : 1;
}
