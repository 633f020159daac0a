/* HABIT: the listener closed right after accept() (gawk, Tcl), then the echo */
#include "../../habit.h"

int main(int argc, char *argv[])
{
    need_args(argc, argv, 3, "HOST PORT");
    int listener = listen_on(argv[1], argv[2]);
    int conn = accept_one(listener);
    close_or_die(listener);
    echo(conn);
    close_or_die(conn);
    return 0;
}
