/* SPDX-License-Identifier: MIT */
#include <stdio.h>
int main(void)
{
	fputs("ccdma-devsim: not written yet\n", stderr);
	return 1;
}
