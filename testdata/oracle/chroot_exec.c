/* chroot_exec ROOT [NAME=VALUE...] -- PROGRAM [ARG...]
 *
 * Changes root to ROOT and runs PROGRAM with exactly the given
 * environment. It is linked statically, so the environment meant for the
 * program (LD_TRACE_LOADED_OBJECTS, LD_LIBRARY_PATH, LD_PRELOAD) never
 * reaches a dynamic loader on the way, as it would through chroot(1) or
 * env(1). The tests use it as the last step into a mount namespace. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
	if (argc < 4) {
		fprintf(stderr, "usage: chroot_exec ROOT [NAME=VALUE...] -- PROGRAM [ARG...]\n");
		return 125;
	}
	int sep = 2;
	while (sep < argc && strcmp(argv[sep], "--") != 0)
		sep++;
	if (sep >= argc - 1) {
		fprintf(stderr, "chroot_exec: no program after --\n");
		return 125;
	}
	char *env[sep - 1];
	for (int i = 2; i < sep; i++)
		env[i - 2] = argv[i];
	env[sep - 2] = NULL;
	if (chroot(argv[1]) != 0 || chdir("/") != 0) {
		perror("chroot_exec: chroot");
		return 125;
	}
	execve(argv[sep + 1], argv + sep + 1, env);
	perror("chroot_exec: execve");
	return 127;
}
