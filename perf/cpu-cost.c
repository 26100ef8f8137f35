// SPDX-License-Identifier: MIT
/*
 * cpu-cost - run a command and say what it cost: wall time, the CPU time
 * of the command (user and system, all its threads and children, from
 * wait4()) and the CPU time the whole machine spent meanwhile (from
 * /proc/stat: the device's work, the kernel's flusher threads and
 * interrupts included), as one JSON object on standard output.
 *
 *   cpu-cost [--name NAME] [--bytes N] [--sync] -- COMMAND [ARGS...]
 *
 * --sync runs sync() after the command, inside the measured time: data
 * that write() left in the page cache is not on disk until then.
 * --bytes gives the data the command moved, for the per-GB figures.
 * Exits with the command's status.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Busy time of all CPUs since boot, in seconds (everything but idle and iowait). */
static double machine_busy(void)
{
	unsigned long long v[10] = { 0 };
	FILE *f = fopen("/proc/stat", "r");
	double ticks = sysconf(_SC_CLK_TCK);

	if (!f)
		return -1;
	if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu",
		   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) != 8)
		v[0] = v[1] = v[2] = v[5] = v[6] = v[7] = 0;
	fclose(f);
	/* user nice system idle iowait irq softirq steal */
	return (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / ticks;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	const char *name = "command";
	unsigned long long bytes = 0;
	double t0, busy0, wall, busy, cpu;
	struct rusage ru;
	int i, sync_after = 0, status;
	pid_t pid;

	for (i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "--name") && i + 1 < argc)
			name = argv[++i];
		else if (!strcmp(argv[i], "--bytes") && i + 1 < argc)
			bytes = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--sync"))
			sync_after = 1;
		else
			break;
	}
	if (i >= argc - 1 || strcmp(argv[i], "--")) {
		fprintf(stderr, "usage: cpu-cost [--name NAME] [--bytes N] [--sync] -- COMMAND [ARGS...]\n");
		return 2;
	}
	busy0 = machine_busy();
	t0 = now_s();
	pid = fork();
	if (pid == 0) {
		execvp(argv[i + 1], argv + i + 1);
		fprintf(stderr, "cpu-cost: %s: %s\n", argv[i + 1], strerror(errno));
		_exit(127);
	}
	if (pid < 0 || wait4(pid, &status, 0, &ru) != pid) {
		perror("cpu-cost");
		return 2;
	}
	if (sync_after)
		sync();
	wall = now_s() - t0;
	busy = machine_busy() - busy0;
	cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	      ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	printf("{\"name\": \"%s\", \"bytes\": %llu, \"wall_s\": %.3f, \"cpu_s\": %.3f, "
	       "\"user_s\": %.3f, \"sys_s\": %.3f, \"machine_busy_s\": %.3f, \"status\": %d}\n",
	       name, bytes, wall, cpu, ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
	       ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6, busy,
	       WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
