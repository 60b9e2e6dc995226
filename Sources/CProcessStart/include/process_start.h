// Process set-up that must happen before any library is initialised (see process_start.c).
#pragma once

/// Name of the variable that marks an OpenMP wait policy chosen by kinema (not by the user), so that
/// child processes (benchmark baselines) can be given the user's environment back.
#define KINEMA_CHOSE_OMP_WAIT_POLICY "KINEMA_CHOSE_OMP_WAIT_POLICY"
