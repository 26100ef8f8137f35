/*
 * eventfd.pml - the eventfd wake-up between the kernel's lring_notify()
 * (kernel/lring_ring.c) and liblring's lring_wait() (liblring/src/wait.c),
 * whose comments name this model. Batch threshold 1: the kernel signals on
 * the ring's empty -> non-empty transition only.
 *
 * The kernel publishes a batch of one or two completions (the producer
 * index, once: lring_buffers_done()), then reads the application's
 * consumer index and signals if the batch carried the count of unconsumed
 * entries from below the threshold to at least it (docs/reliability.md
 * entry 34: "exactly one unconsumed" misses a batch of two). The application, finding the ring empty, publishes its
 * consumer index again, looks at the producer once more and otherwise
 * sleeps on the eventfd. A lost wake-up is the application asleep with a
 * completion waiting and no signal coming: Spin reports it as an invalid
 * end state.
 *
 * Each side's stores go through a store buffer that drains at any moment,
 * so a later load may pass an earlier store (x86, arm64): the reordering
 * the full barriers (smp_mb() in lring_notify(), lring_smp_mb() in
 * lring_wait()) forbid. -DNO_KERNEL_MB or -DNO_USER_MB removes one;
 * tests/models/check.sh requires each of those to fail.
 */
#define COMPLETIONS 3

byte cq_prod;		/* shared: the completion producer, the kernel's */
byte cq_cons;		/* shared: the completion consumer, the application's */
byte signals;		/* eventfd count (a syscall on both sides: no buffer) */

/* one store buffer per side, as in need_wakeup.pml */
byte kernel_sb_val; bit kernel_sb_full;
byte user_sb_val; bit user_sb_full;

inline kernel_store_prod(v) { atomic { kernel_sb_val = v; kernel_sb_full = 1 } }
inline user_store_cons(v) { atomic { user_sb_val = v; user_sb_full = 1 } }
#ifdef NO_KERNEL_MB
inline kernel_mb() { skip }
#else
inline kernel_mb() { !kernel_sb_full }
#endif
#ifdef NO_USER_MB
inline user_mb() { skip }
#else
inline user_mb() { !user_sb_full }
#endif

active proctype kernel_store_buffer()
{
end:	do
	:: atomic { kernel_sb_full -> cq_prod = kernel_sb_val; kernel_sb_full = 0 }
	od
}

active proctype user_store_buffer()
{
end:	do
	:: atomic { user_sb_full -> cq_cons = user_sb_val; user_sb_full = 0 }
	od
}

/* the interrupt handler: publish a completion, then lring_notify() */
active proctype kernel()
{
	byte prod = 0, n;

	do
	:: prod < COMPLETIONS ->
		if
		:: n = 1
		:: prod + 2 <= COMPLETIONS -> n = 2
		fi;
		prod = prod + n;
		kernel_store_prod(prod);	/* smp_store_release() */
		kernel_mb();			/* smp_mb() */
		if
#ifdef EQUAL_THRESHOLD
		:: prod - cq_cons == 1 ->	/* the old test: misses batches */
#else
		:: prod - cq_cons >= 1 && prod - cq_cons - n < 1 ->
#endif
			!kernel_sb_full;	/* eventfd_signal() takes a lock */
			signals++
		:: else
		fi
	:: else -> break
	od
}

/* lring_peek() + lring_release() in a loop, lring_wait() when empty */
active proctype application()
{
	byte cons = 0, seen = 0;

	do
	:: cons == COMPLETIONS -> break
	:: else ->
		if
		:: cq_prod != cons ->			/* lring_cq_ready() */
			cons = cq_prod;			/* take them all */
			user_store_cons(cons)		/* lring_release() */
		:: else ->
			user_store_cons(cons);		/* ready_after_barrier() */
			user_mb();			/* lring_smp_mb() */
			if
			:: cq_prod != cons -> skip	/* look once more */
			:: else ->
				!user_sb_full;		/* poll() is a syscall */
				signals > seen;		/* asleep on the eventfd */
				seen = signals		/* read() resets it */
			fi
		fi
	od
}
