import FlowTensor

/// A text cut into fixed-length windows, the items a ``Trainer`` draws
/// batches of.
///
/// Item `i` is the `length` symbols starting at `i × stride`. With
/// `stride == length` (the default) the windows tile the text without
/// overlap, as the usual "fixed-length chunks" of text8 training do; with
/// `stride == 1` every offset is an item, and the trainer's shuffled
/// batches are windows at uniformly random offsets. A final stretch shorter
/// than a window is not an item.
public struct CharacterWindows: TrainingDataset, Sendable {
  /// The text, symbol indices in `0..<27`.
  public let symbols: [UInt8]
  /// Symbols per window (the context).
  public let length: Int
  /// Symbols between the starts of consecutive windows.
  public let stride: Int
  /// The number of windows.
  public let count: Int

  /// The windows of `symbols`.
  /// - Parameters:
  ///   - symbols: each in `0..<27`.
  ///   - length: symbols per window. Precondition: positive.
  ///   - stride: between window starts, `length` if `nil`. Precondition:
  ///     positive.
  public init(symbols: [UInt8], length: Int, stride: Int? = nil) {
    let stride = stride ?? length
    precondition(length > 0, "CharacterWindows: window length \(length) must be positive")
    precondition(stride > 0, "CharacterWindows: stride \(stride) must be positive")
    self.init(
      symbols: symbols, length: length, stride: stride,
      count: symbols.count < length ? 0 : (symbols.count - length) / stride + 1)
  }

  private init(symbols: [UInt8], length: Int, stride: Int, count: Int) {
    self.symbols = symbols
    self.length = length
    self.stride = stride
    self.count = count
  }

  /// The first `count` windows (all of them when `count` is larger).
  public func prefix(_ count: Int) -> CharacterWindows {
    CharacterWindows(symbols: symbols, length: length, stride: stride, count: Swift.max(0, Swift.min(count, self.count)))
  }

  /// The symbols of window `index`.
  /// - Parameters:
  ///   - index: in `0..<count`.
  public func window(_ index: Int) -> ArraySlice<UInt8> {
    precondition(index >= 0 && index < count, "CharacterWindows.window: index \(index) outside 0..<\(count)")
    return symbols[index * stride ..< index * stride + length]
  }

  /// The windows `indices` as one batch of token indices.
  /// - Parameters:
  ///   - indices: each in `0..<count`.
  /// - Returns: `[indices.count, length]`.
  /// - Complexity: O(indices.count × length).
  public func batch(_ indices: [Int]) -> IndexTensor {
    var tokens: [Int] = []
    tokens.reserveCapacity(indices.count * length)
    for index in indices { tokens.append(contentsOf: window(index).lazy.map(Int.init)) }
    return IndexTensor(shape: [indices.count, length], indices: tokens)
  }
}
