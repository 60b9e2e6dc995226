// libgomp's wait policy for `kinema`, chosen in-process before libgomp can load (see wait_policy.c).
#pragma once

/// Marks an OpenMP wait policy in the environment as chosen by kinema (not by the user), for child kinema processes
/// started before it was given back.
#define KINEMA_CHOSE_OMP_WAIT_POLICY "KINEMA_CHOSE_OMP_WAIT_POLICY"

/// `kinema`'s `main`, first thing (one thread, nothing loaded yet): sets OMP_WAIT_POLICY=PASSIVE unless the user set
/// OMP_WAIT_POLICY or GOMP_SPINCOUNT. Returns the policy kinema chose (here, or a kinema parent), NULL when the
/// user's setting or libgomp's default stands.
const char *kinema_choose_wait_policy(void);

/// CTorch's loader, once libtorch (and so libgomp, which read the policy in its constructor) has loaded: removes
/// kinema's choice from the environment, so that child processes (benchmark baselines) get the user's.
void kinema_wait_policy_read(void);
