//===- SanitizerOptions.cpp - ASan defaults for the fuzz targets ----------===//
//
// allow_user_poisoning=0: LLVM's BumpPtrAllocator poisons the unused part of
// each slab when the code that starts the slab is compiled with ASan. Our
// instrumented code (e.g. an attn attribute's storage constructor, inlined
// from StorageUniquer.h) can start a slab of a context's allocator that the
// uninstrumented libMLIR then hands out without unpoisoning, and the next
// memmove into it is reported as use-after-poison: a false positive of
// mixing instrumented headers with uninstrumented LLVM/MLIR libraries. With
// the option ASan ignores manual poisoning; its own checks are unchanged.
//
//===----------------------------------------------------------------------===//
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
extern "C" const char *__asan_default_options() {
  return "allow_user_poisoning=0";
}
#endif
#endif
