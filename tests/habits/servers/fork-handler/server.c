/* HABIT: fork per connection: the child closes its listener copy, echoes, closes; the parent closes conn and listener after waitpid() */
#include "../../habit.h"

int main(int argc, char *argv[])
{
    need_args(argc, argv, 3, "HOST PORT");
    int listener = listen_on(argv[1], argv[2]);
    int conn = accept_one(listener);
    pid_t child = fork();
    if (child < 0)
        die("fork");
    if (child == 0) {
        close_or_die(listener);
        echo(conn);
        close_or_die(conn);
        _exit(0);
    }
    int status = reap(child);
    close_or_die(conn);
    close_or_die(listener);
    return status;
}
