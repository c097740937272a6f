/*
 * periodic.c: a thread that calls a function every interval until stopped.
 *
 * The thread sleeps on a condition variable so that a stop wakes it at
 * once instead of after the interval.  Its one lock, @lock, guards @stop;
 * the function is called with the lock released.
 */
#include "config.h"

#include "ics/manager/periodic.h"

struct IcsPeriodic {
	GThread *thread;
	guint interval_ms;
	void (*fn)(gpointer data);
	gpointer data;
	GMutex lock;
	GCond cond;
	gboolean stop;
};

static gpointer run(gpointer data)
{
	IcsPeriodic *p = data;

	g_mutex_lock(&p->lock);
	while (!p->stop) {
		gint64 until = g_get_monotonic_time() + (gint64)p->interval_ms * 1000;

		while (!p->stop && g_cond_wait_until(&p->cond, &p->lock, until))
			;
		if (p->stop)
			break;
		g_mutex_unlock(&p->lock);
		p->fn(p->data);
		g_mutex_lock(&p->lock);
	}
	g_mutex_unlock(&p->lock);
	return NULL;
}

IcsPeriodic *ics_periodic_start(const char *name, guint interval_ms, void (*fn)(gpointer data),
				gpointer data)
{
	IcsPeriodic *p = g_new0(IcsPeriodic, 1);

	p->interval_ms = interval_ms;
	p->fn = fn;
	p->data = data;
	g_mutex_init(&p->lock);
	g_cond_init(&p->cond);
	p->thread = g_thread_new(name, run, p);
	return p;
}

void ics_periodic_stop(IcsPeriodic *p)
{
	if (p == NULL)
		return;
	g_mutex_lock(&p->lock);
	p->stop = TRUE;
	g_cond_signal(&p->cond);
	g_mutex_unlock(&p->lock);
	g_thread_join(p->thread);
	g_mutex_clear(&p->lock);
	g_cond_clear(&p->cond);
	g_free(p);
}
