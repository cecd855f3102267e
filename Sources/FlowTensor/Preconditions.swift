/// `precondition` and `preconditionFailure` for this module, which keep
/// their message in optimised builds.
///
/// The standard library's versions drop the message under `-O` and trap
/// with "precondition failure" alone, so a user training in a release build
/// would learn nothing about the shapes that did not fit. These shadow them
/// inside FlowTensor with the same signatures and the same checks, and stop
/// through `fatalError`, which prints the message in every build.
@inlinable @inline(__always)
func precondition(
  _ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String = String(),
  file: StaticString = #fileID, line: UInt = #line
) {
  if _slowPath(!condition()) { stop(message(), file: file, line: line) }
}

@inlinable @inline(__always)
func preconditionFailure(
  _ message: @autoclosure () -> String = String(), file: StaticString = #fileID, line: UInt = #line
) -> Never {
  stop(message(), file: file, line: line)
}

@usableFromInline @inline(never)
func stop(_ message: String, file: StaticString, line: UInt) -> Never {
  fatalError(message, file: file, line: line)
}
