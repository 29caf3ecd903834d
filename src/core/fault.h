/* Test hooks: NESTOR_FAULT makes nestor fail, die or stop at a named moment. */
#ifndef NESTOR_FAULT_H
#define NESTOR_FAULT_H

/*
 * NESTOR_FAULT=WHERE: returns -EIO (logged) at that point; kill:WHERE
 * raises SIGKILL there, stop:WHERE SIGSTOP (a test changes something under
 * nestor, then sends SIGCONT). Else 0.
 */
int fault_point(const char *where);

#endif
