/*
 * need_wakeup.pml - the NEED_WAKEUP handshake between liblring's
 * lring_fill_submit() (liblring/include/lring.h) and the kernel's
 * lring_refill() (kernel/lring_ring.c), whose comments name this model.
 *
 * The application returns buffers (publishes the fill ring producer) and
 * kicks only if it sees NEED_WAKEUP; the kernel, finding the fill ring
 * empty, raises NEED_WAKEUP, looks once more, and otherwise waits for a
 * kick. A lost wake-up is the kernel waiting while buffers sit in the fill
 * ring and nobody will kick: Spin reports it as an invalid end state.
 *
 * Each side's stores go through a store buffer that drains at any moment
 * (a separate process), so a later load may pass an earlier store, as on
 * x86 and arm64: the reordering the two full barriers (lring_smp_mb() and
 * smp_mb()) forbid. -DNO_USER_MB or -DNO_KERNEL_MB removes one of them;
 * tests/models/check.sh requires each of those to fail.
 */
#define RETURNS 3

byte fq_prod;		/* shared: the fill ring producer, the application's */
bit need_wakeup;	/* shared: the flag, the kernel's */
byte kicks;		/* kick ioctls made (a syscall: no store buffer) */

/*
 * One store buffer per side, holding its variable's newest unwritten value:
 * a second store replaces a pending one, as if both drained at once (which
 * TSO allows), so a store never waits for the buffer to drain.
 */
byte user_sb_val; bit user_sb_full;
bit kernel_sb_val; bit kernel_sb_full;

inline user_store_fq_prod(v) { atomic { user_sb_val = v; user_sb_full = 1 } }
inline kernel_store_flag(v) { atomic { kernel_sb_val = v; kernel_sb_full = 1 } }
/* a full barrier: wait until this side's stores are visible */
#ifdef NO_USER_MB
inline user_mb() { skip }
#else
inline user_mb() { !user_sb_full }
#endif
#ifdef NO_KERNEL_MB
inline kernel_mb() { skip }
#else
inline kernel_mb() { !kernel_sb_full }
#endif

active proctype user_store_buffer()
{
end:	do
	:: atomic { user_sb_full -> fq_prod = user_sb_val; user_sb_full = 0 }
	od
}

active proctype kernel_store_buffer()
{
end:	do
	:: atomic { kernel_sb_full -> need_wakeup = kernel_sb_val; kernel_sb_full = 0 }
	od
}

/* lring_return() -> lring_fill_submit(), once per returned buffer */
active proctype application()
{
	byte prod = 0;

	do
	:: prod < RETURNS ->
		prod++;
		user_store_fq_prod(prod);	/* lring_store_release() */
		user_mb();			/* lring_smp_mb() */
		if
		:: need_wakeup ->		/* lring_needs_wakeup() */
			!user_sb_full;		/* a syscall orders everything */
			kicks++			/* lring_kick() */
		:: else
		fi
	:: else -> break
	od
}

/* lring_refill() each time the device needs a buffer; a kick runs it too */
active proctype kernel()
{
	byte cons = 0, seen = 0;

	do
	:: cons == RETURNS -> break
	:: else ->
		if
		:: fq_prod != cons -> cons = fq_prod	/* lring_feed() */
		:: else ->
			kernel_store_flag(1);		/* NEED_WAKEUP up */
			kernel_mb();			/* smp_mb() */
			if
			:: fq_prod != cons ->		/* look once more */
				kernel_store_flag(0);
				cons = fq_prod
			:: else ->
				kicks > seen;		/* sleep until a kick */
				seen = kicks;
				kernel_store_flag(0)
			fi
		fi
	od
}
