/* HABIT: bind and listen, then exec itself with the listener's fd number in argv (fd kept); the new image accepts and echoes */
#include "../../habit.h"

int main(int argc, char *argv[])
{
    if (argc == 3) {
        int listener = listen_on(argv[1], argv[2]);  /* no close-on-exec: kept across exec */
        char number[16];
        snprintf(number, sizeof number, "%d", listener);
        execl("/proc/self/exe", argv[0], argv[1], argv[2], number, (char *)NULL);
        die("exec");
    }
    need_args(argc, argv, 4, "HOST PORT [FD]");
    int listener = atoi(argv[3]);
    int conn = accept_one(listener);
    echo(conn);
    close_or_die(conn);
    close_or_die(listener);
    return 0;
}
