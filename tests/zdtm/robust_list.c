// SPDX-License-Identifier: GPL-2.0
/*
 * robust_list: the robust futex list head (set_robust_list) has the same
 * address and length after restore. The test registers its own empty list
 * so that a head left over from the restorer or glibc cannot match by chance.
 */
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtm.h"

static struct robust_list_head my_head = {.list.next = &my_head.list};

int main(int argc, char **argv)
{
	struct robust_list_head *head;
	size_t len;

	test_init(argc, argv);
	if (syscall(SYS_set_robust_list, &my_head, sizeof(my_head)))
		fail("set_robust_list: %m");

	test_daemon();
	test_waitsig();

	if (syscall(SYS_get_robust_list, 0, &head, &len))
		fail("get_robust_list: %m");
	if (head != &my_head || len != sizeof(my_head))
		fail("robust list %p len %zu, expected %p len %zu", head, len, &my_head,
		     sizeof(my_head));
	pass();
}
