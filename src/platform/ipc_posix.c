/* SPDX-License-Identifier: MIT */
/* Placeholder: being written. */
typedef int ccdma_placeholder_ipc_posix;
