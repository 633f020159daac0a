/* HABIT: inetd: fork, the connection on fds 0 and 1, exec head -c LEN as the echo */
#include "../../habit.h"

int main(int argc, char *argv[])
{
    need_args(argc, argv, 4, "HOST PORT MESSAGE");
    char len[32];
    snprintf(len, sizeof len, "%zu", strlen(argv[3]));
    int listener = listen_on(argv[1], argv[2]);
    int conn = accept_one(listener);
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        /* the service's stdin and stdout are the connection */
        if (dup2(conn, 0) < 0 || dup2(conn, 1) < 0)
            die("dup2");
        close_or_die(conn);
        close_or_die(listener);
        execlp("head", "head", "-c", len, (char *)NULL);
        die("exec head");
    }
    close_or_die(conn);
    int status = reap(pid);
    close_or_die(listener);
    return status;
}
