import DriftlessCore
import Foundation

// The blueprint decoder and validator under libFuzzer. Built with
//   swift build --scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING --product BlueprintFuzzer
// Built normally it is a replay tool: it runs the same function
// on each file given (how a crash becomes a regression test).

/// One input: decode and validate as a blueprint file; must never crash, whatever the bytes.
@inline(never)
func fuzzOne(_ bytes: UnsafeRawBufferPointer) {
    let set = BlueprintSet.load([BlueprintSource(path: "fuzz.yaml", contents: Data(bytes))])
    if set.isValid { _ = DesiredCatalog.build(set) }
    for diagnostic in set.diagnostics { precondition(!diagnostic.code.isEmpty && !diagnostic.message.isEmpty) }
}

#if FUZZING
// libFuzzer's runtime (linked whole) has its own `main`, which calls this for every input.
@_cdecl("LLVMFuzzerTestOneInput")
public func LLVMFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzOne(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

// SwiftPM points `main` at `<product>_main`; hand that to libFuzzer's driver.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

@_cdecl("BlueprintFuzzer_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { LLVMFuzzerTestOneInput($0, $1) }
}
#else
@main
struct ReplayInputs {
    static func main() throws {
        let paths = Array(CommandLine.arguments.dropFirst())
        for path in paths {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            data.withUnsafeBytes { fuzzOne($0) }
        }
        print("replayed \(paths.count) input(s) without a crash")
    }
}
#endif
