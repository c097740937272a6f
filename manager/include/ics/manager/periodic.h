/*
 * ics/manager/periodic.h: a thread that calls a function every so often
 * until it is stopped (periodic.c) -- the directory sync's and the system
 * backup's period.  The function runs on the thread with no lock held; the
 * first call comes one interval after the start.  Stopping wakes the
 * thread and joins it: when ics_periodic_stop() returns the function is
 * not running and will not run again.
 */
#ifndef ICS_MANAGER_PERIODIC_H
#define ICS_MANAGER_PERIODIC_H

#include <glib.h>

typedef struct IcsPeriodic IcsPeriodic;

IcsPeriodic *ics_periodic_start(const char *name, guint interval_ms, void (*fn)(gpointer data),
				gpointer data);
/* NULL is accepted. */
void ics_periodic_stop(IcsPeriodic *p);

#endif /* ICS_MANAGER_PERIODIC_H */
