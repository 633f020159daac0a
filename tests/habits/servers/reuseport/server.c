/* HABIT: SO_REUSEADDR and SO_REUSEPORT set on the listener before bind (most servers set the first) */
#include "../../habit.h"

int main(int argc, char *argv[])
{
    need_args(argc, argv, 3, "HOST PORT");
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    if (listener < 0)
        die("socket");
    int on = 1;
    if (setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0 ||
        setsockopt(listener, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) < 0)
        die("setsockopt");
    bind_and_listen(listener, argv[1], argv[2]);
    int conn = accept_one(listener);
    echo(conn);
    close_or_die(conn);
    close_or_die(listener);
    return 0;
}
