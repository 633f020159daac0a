/* HABIT: shutdown(SHUT_WR) after the send (netcat -N), then the echo is read */
#include "../../habit.h"

int main(int argc, char *argv[])
{
    need_args(argc, argv, 4, "HOST PORT MESSAGE");
    const char *message = argv[3];
    size_t len = strlen(message);
    int fd = connect_to(argv[1], argv[2]);
    send_all(fd, message, len);
    if (shutdown(fd, SHUT_WR) < 0)
        die("shutdown");
    receive_and_print(fd, len);
    return 0;
}
