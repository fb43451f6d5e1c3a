//===- AttnAttrs.cpp - verifiers and syntax of the typed attributes -------===//
#include "attnc/Dialect/Attn/AttnAttrs.h"
#include "attnc/Dialect/Attn/AttnDialect.h"
#include "attnc/Dialect/Attn/AttnOps.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace attnc;
using namespace attnc::attn;

#include "attnc/Dialect/Attn/AttnEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "attnc/Dialect/Attn/AttnAttrs.cpp.inc"

// Here, where the attributes' storage classes are complete.
void AttnDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "attnc/Dialect/Attn/AttnAttrs.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// #attn.target
//===----------------------------------------------------------------------===//

LogicalResult TargetAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                 StringRef name) {
  std::string error;
  auto info = TargetInfo::parse(name.str(), error);
  if (!info)
    return emitError() << error;
  if (info->name() != name)
    return emitError() << "target '" << name << "' is not canonical; write '"
                       << info->name() << "'";
  return success();
}

TargetInfo TargetAttr::getInfo() const {
  std::string error;
  return *TargetInfo::parse(getName().str(), error);
}

TargetAttr TargetAttr::get(MLIRContext *context, const TargetInfo &info) {
  return get(context, info.name());
}

//===----------------------------------------------------------------------===//
// #attn.mask<kind[, lo = N][, hi = N][, size = N]>
//===----------------------------------------------------------------------===//

LogicalResult MaskAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                               MaskKind kind, std::optional<int64_t> lo,
                               std::optional<int64_t> hi,
                               std::optional<int64_t> size) {
  if (kind == MaskKind::band) {
    if (size)
      return emitError() << "a band mask has no block size";
    if (!lo && !hi)
      return emitError() << "a band mask needs lo, hi or both";
    if (lo && hi && *lo > *hi)
      return emitError() << "band lo " << *lo << " exceeds hi " << *hi
                         << ": the mask allows no key";
    return success();
  }
  if (kind == MaskKind::block) {
    if (lo || hi)
      return emitError() << "a block mask has no band bounds";
    if (!size || *size < 1)
      return emitError() << "a block mask needs a block size >= 1";
    return success();
  }
  if (lo || hi || size)
    return emitError() << "a '" << stringifyMaskKind(kind)
                       << "' mask takes no parameters";
  return success();
}

Attribute MaskAttr::parse(AsmParser &parser, Type) {
  StringRef kindName;
  if (parser.parseLess() || parser.parseKeyword(&kindName))
    return {};
  auto kind = symbolizeMaskKind(kindName);
  if (!kind) {
    parser.emitError(parser.getCurrentLocation())
        << "unknown mask kind '" << kindName
        << "'; expected none, band, block or elementwise";
    return {};
  }
  std::optional<int64_t> lo, hi, size;
  while (succeeded(parser.parseOptionalComma())) {
    StringRef key;
    int64_t value;
    auto loc = parser.getCurrentLocation();
    if (parser.parseKeyword(&key) || parser.parseEqual() ||
        parser.parseInteger(value))
      return {};
    std::optional<int64_t> *slot = key == "lo"     ? &lo
                                   : key == "hi"   ? &hi
                                   : key == "size" ? &size
                                                   : nullptr;
    if (!slot) {
      parser.emitError(loc) << "unknown mask parameter '" << key
                            << "'; expected lo, hi or size";
      return {};
    }
    if (*slot) {
      parser.emitError(loc) << "mask parameter '" << key << "' given twice";
      return {};
    }
    *slot = value;
  }
  if (parser.parseGreater())
    return {};
  return parser.getChecked<MaskAttr>(parser.getContext(), *kind, lo, hi, size);
}

void MaskAttr::print(AsmPrinter &printer) const {
  printer << "<" << stringifyMaskKind(getKind());
  if (getLo())
    printer << ", lo = " << *getLo();
  if (getHi())
    printer << ", hi = " << *getHi();
  if (getSize())
    printer << ", size = " << *getSize();
  printer << ">";
}

//===----------------------------------------------------------------------===//
// #attn.schedule
//===----------------------------------------------------------------------===//

LogicalResult
ScheduleAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                     int64_t vectorWidth, int64_t tileQueries,
                     int64_t registerRows, int64_t keyTile,
                     int64_t valueTile, int64_t valueRows, bool bf16Dot,
                     int64_t keyChunk) {
  if (vectorWidth != 4 && vectorWidth != 8 && vectorWidth != 16)
    return emitError() << "vector width " << vectorWidth
                       << " is not 4 (SSE), 8 (AVX2) or 16 (AVX-512) f32 lanes";
  if (tileQueries < 1 || tileQueries > 4096)
    return emitError() << "tile of " << tileQueries
                       << " queries is outside [1, 4096]";
  // Q·Kᵀ's register tile (key_tile × register_rows), then P·V's.
  for (auto [what, width, rows] :
       {std::tuple("key", keyTile, registerRows),
        std::tuple("value", valueTile, valueRows)}) {
    if (rows < 1 || rows > 16)
      return emitError() << what << " register tile of " << rows
                         << " rows is outside [1, 16]";
    if (width < vectorWidth || width % vectorWidth != 0)
      return emitError() << what << " tile " << width
                         << " is not a multiple of the vector width "
                         << vectorWidth;
    if (width / vectorWidth * rows > 32)
      return emitError() << what << " register tile of "
                         << width / vectorWidth << " vectors x " << rows
                         << " rows needs more than 32 vector registers";
  }
  if (bf16Dot && vectorWidth != 16)
    return emitError() << "bf16 dot products need the vector width 16 "
                          "(AVX-512), not "
                       << vectorWidth;
  // A chunk is whole key tiles (and whole bf16 pairs of keys); more than
  // 2^20 keys per chunk would never be taken (sequences are < 2^30).
  if (keyChunk != 0 && (keyChunk < keyTile || keyChunk % keyTile != 0 ||
                        keyChunk % 2 != 0 || keyChunk > (1 << 20)))
    return emitError() << "key chunk " << keyChunk
                       << " is not 0 or an even multiple of the key tile "
                       << keyTile << " up to 2^20";
  return success();
}

LogicalResult
GpuScheduleAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                        int64_t warps, int64_t tileQueries, int64_t keyTile) {
  if (warps != 1 && warps != 2 && warps != 4 && warps != 8)
    return emitError() << "gpu schedule of " << warps
                       << " warps is not 1, 2, 4 or 8";
  if (tileQueries != 16 * warps)
    return emitError() << "tile of " << tileQueries << " queries is not 16 x "
                       << warps << " warps (one mma.sync row block per warp)";
  if (keyTile != 32 && keyTile != 64 && keyTile != 128)
    return emitError() << "key tile " << keyTile << " is not 32, 64 or 128";
  return success();
}

//===----------------------------------------------------------------------===//
// Where each discardable attribute may appear
//===----------------------------------------------------------------------===//

LogicalResult AttnDialect::verifyOperationAttribute(Operation *op,
                                                    NamedAttribute attr) {
  StringRef name = attr.getName().strref();
  if (name == kTargetAttrName) {
    if (!isa<TargetAttr>(attr.getValue()))
      return op->emitError() << "'" << name
                             << "' must be an #attn.target attribute";
    if (!isa<ModuleOp>(op))
      return op->emitError() << "'" << name << "' belongs on a module";
    return success();
  }
  if (name == kMaskAttrName) {
    if (!isa<MaskAttr>(attr.getValue()))
      return op->emitError() << "'" << name
                             << "' must be an #attn.mask attribute";
    if (!isa<AttendOp, AttendGradOp>(op))
      return op->emitError() << "'" << name
                             << "' belongs on attn.attend or attn.attend_grad";
    return success();
  }
  if (name == kScheduleAttrName) {
    if (isa<GpuScheduleAttr>(attr.getValue())) {
      if (!isa<AttendOp, WindowedAttendOp>(op))
        return op->emitError() << "'" << name << "' #attn.gpu_schedule "
                                  "belongs on attn.attend or attn.windowed_attend";
      return success();
    }
    if (!isa<ScheduleAttr>(attr.getValue()))
      return op->emitError() << "'" << name
                             << "' must be an #attn.schedule or "
                                "#attn.gpu_schedule attribute";
    if (!isa<AttendOp, AttendGradOp, WindowedAttendOp, ChunkedAttendOp,
             ChunkedAttendGradOp, HashBucketOp>(op))
      return op->emitError() << "'" << name
                             << "' belongs on attn.attend, attn.attend_grad, "
                                "attn.windowed_attend, attn.chunked_attend, "
                                "attn.chunked_attend_grad or attn.hash_bucket";
    if (cast<ScheduleAttr>(attr.getValue()).getBf16Dot()) {
      auto attend = dyn_cast<AttendOp>(op);
      if (!attend)
        return op->emitError() << "'" << name
                               << "' with bf16_dot belongs on attn.attend";
      auto elem = [](Value v) {
        return cast<ShapedType>(v.getType()).getElementType();
      };
      if (!elem(attend.getQ()).isBF16() || !elem(attend.getK()).isBF16())
        return op->emitError() << "'" << name
                               << "' with bf16_dot needs bf16 q and k, not "
                               << elem(attend.getQ()) << " and "
                               << elem(attend.getK());
    }
    return success();
  }
  if (name == kExactAttrName) {
    auto list = dyn_cast<ArrayAttr>(attr.getValue());
    if (!list || !llvm::all_of(list, [](Attribute a) {
          return isa<StringAttr>(a);
        }))
      return op->emitError() << "'" << name
                             << "' must be an array of dimension strings";
    if (op->getName().getStringRef() != "func.func")
      return op->emitError() << "'" << name << "' belongs on a func.func";
    return success();
  }
  if (name == kTileRowsAttrName || name == kGridArgAttrName) {
    auto value = dyn_cast<IntegerAttr>(attr.getValue());
    int64_t least = name == kTileRowsAttrName ? 1 : 0;
    if (!value || value.getInt() < least)
      return op->emitError() << "'" << name << "' must be an integer of at least "
                             << least;
    if (op->getName().getStringRef() != "gpu.func")
      return op->emitError() << "'" << name << "' belongs on a gpu.func";
    return success();
  }
  return op->emitError() << "unknown attn attribute '" << name << "'";
}
