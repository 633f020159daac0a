/* CONTROL: this program does not compile (a missing semicolon and an undeclared name): the
 * sample must be reported as failed, with the compiler's last lines, never as skipped. */
#include <stdio.h>

int main(void)
{
    int fd = socket_that_does_not_exist()
    return fd;
}
