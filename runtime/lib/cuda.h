/*===- cuda.h - internal: the runtime's CUDA launcher ---------------------===*
 *
 * Between runtime.c (which checks tensors for every kernel) and cuda.c
 * (which alone talks to the CUDA driver). Not installed.
 *
 *===----------------------------------------------------------------------===*/
#ifndef ATTNC_RUNTIME_LIB_CUDA_H
#define ATTNC_RUNTIME_LIB_CUDA_H

#include "attnc/runtime_abi.h"

/* Launches variant->cuda on the calling thread's stream with the tensors
 * attn_prepare() accepted (device, shapes, strides and dense_args already
 * checked); does not wait for it. Returns 0, ATTN_ERR_DEVICE for a tensor
 * whose data the driver reports as not CUDA memory, ATTN_ERR_SHAPE for a
 * grid beyond CUDA's limits, else ATTN_ERR_CUDA, with the message stored. */
int attn_cuda_launch(const attn_kernel_spec *spec, const attn_variant *variant,
                     const attn_tensor *const *tensors);

#endif /* ATTNC_RUNTIME_LIB_CUDA_H */
