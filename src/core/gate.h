/*
 * gate.h — lets at most as many requests as there are cores do heavy work at once.
 *
 * Ranking a search over a common word or building the executive's dashboard is all CPU
 * and a few megabytes of memory while it runs. With more of them at once than cores,
 * none finishes sooner: they share the cores, and each holds its memory the whole time
 * (under 32 connections the server's peak memory came from 8 such requests at once).
 * So they queue here for a core instead; everything else is not held up.
 */
#ifndef SHOAL_CORE_GATE_H
#define SHOAL_CORE_GATE_H

/** Waits until fewer heavy requests than cores are running, then counts this one in. */
void gate_enter(void);
/** Counts this one out (after gate_enter). */
void gate_leave(void);

#endif
