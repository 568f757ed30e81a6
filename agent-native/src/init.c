/* PID 1 of the sparc64 guest image: filled in with the qemu:sunhme target. */
#include "agent.h"
#include <stdio.h>

int guest_init_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fputs("nicmatrix-agent-native: --init is not built in this version\n", stderr);
	return 2;
}
