import FlowTensor

/// Space-to-depth by 2×2 blocks: the squeeze of RealNVP (Dinh et al. 2017,
/// §3.6) and Glow (Kingma & Dhariwal 2018, §3), which trades spatial
/// resolution for channels between the levels of a multi-scale flow.
///
/// `x`: `[batch, channels, height, width]` becomes
/// `[batch, 4·channels, height/2, width/2]` with
///
///     output[b, 4·c + 2·dy + dx, i, j] = x[b, c, 2·i + dy, 2·j + dx]
///
/// for `dy, dx ∈ {0, 1}`: each input channel becomes four consecutive output
/// channels, one per position in the 2×2 block, row by row (top-left,
/// top-right, bottom-left, bottom-right). This is the ordering of openai/glow's
/// `squeeze2d` and of the PyTorch Glow ports (`view(b, c, h/2, 2, w/2, 2)`,
/// `permute(0, 1, 3, 5, 2, 4)`), so weights trained there keep their meaning.
///
/// The map permutes coordinates, so its log-determinant is 0. It is a
/// reshape, a transpose and a reshape, all differentiable FlowTensor ops.
/// Its inverse is ``Unsqueeze``.
public struct Squeeze<Scalar: TensorScalar>: Bijector {
  public init() {}

  /// Squeezes `x`.
  /// - Parameters:
  ///   - x: `[batch, channels, height, width]`, `height` and `width` even.
  /// - Returns: `[batch, 4·channels, height/2, width/2]` and zeros `[batch]`.
  /// - Complexity: O(n), one strided copy.
  public func forward(_ x: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    (spaceToDepth(x, operation: "Squeeze.forward"), Tensor.zeros(shape: [x.shape.first ?? 0]))
  }

  /// Unsqueezes `y`: the inverse of ``forward(_:)``.
  /// - Parameters:
  ///   - y: `[batch, channels, height, width]`, `channels` divisible by 4.
  /// - Returns: `[batch, channels/4, 2·height, 2·width]` and zeros `[batch]`.
  /// - Complexity: O(n), one strided copy.
  public func inverse(_ y: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    (depthToSpace(y, operation: "Squeeze.inverse"), Tensor.zeros(shape: [y.shape.first ?? 0]))
  }

  public mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {}
}

/// Depth-to-space by 2×2 blocks: the inverse of ``Squeeze``, as a bijector of
/// its own so that a level of a multi-scale model can return to its input's
/// layout (``MultiScale`` wants shape-preserving inner bijectors).
///
/// `y`: `[batch, channels, height, width]` becomes
/// `[batch, channels/4, 2·height, 2·width]` with
/// `output[b, c, 2·i + dy, 2·j + dx] = y[b, 4·c + 2·dy + dx, i, j]`
/// (``Squeeze``'s channel ordering). Log-determinant 0.
public struct Unsqueeze<Scalar: TensorScalar>: Bijector {
  public init() {}

  /// Unsqueezes `x`.
  /// - Parameters:
  ///   - x: `[batch, channels, height, width]`, `channels` divisible by 4.
  /// - Returns: `[batch, channels/4, 2·height, 2·width]` and zeros `[batch]`.
  /// - Complexity: O(n), one strided copy.
  public func forward(_ x: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    (depthToSpace(x, operation: "Unsqueeze.forward"), Tensor.zeros(shape: [x.shape.first ?? 0]))
  }

  /// Squeezes `y`: the inverse of ``forward(_:)``.
  /// - Parameters:
  ///   - y: `[batch, channels, height, width]`, `height` and `width` even.
  /// - Returns: `[batch, 4·channels, height/2, width/2]` and zeros `[batch]`.
  /// - Complexity: O(n), one strided copy.
  public func inverse(_ y: Tensor<Scalar>) -> (output: Tensor<Scalar>, logDeterminant: Tensor<Scalar>) {
    (spaceToDepth(y, operation: "Unsqueeze.inverse"), Tensor.zeros(shape: [y.shape.first ?? 0]))
  }

  public mutating func visitParameters(with visitor: ParameterVisitor<Scalar>) {}
}

/// `[b, c, h, w]` → `[b, 4c, h/2, w/2]` in ``Squeeze``'s channel order.
func spaceToDepth<Scalar: TensorScalar>(_ x: Tensor<Scalar>, operation: String) -> Tensor<Scalar> {
  precondition(
    x.rank == 4 && x.shape[2] % 2 == 0 && x.shape[3] % 2 == 0,
    "\(operation): input \(x.shape) is not [batch, channels, height, width] with even height and width")
  let (batch, channels, height, width) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
  return x.reshaped(to: [batch, channels, height / 2, 2, width / 2, 2])
    .transposed(permutation: [0, 1, 3, 5, 2, 4])  // [b, c, dy, dx, i, j]
    .reshaped(to: [batch, 4 * channels, height / 2, width / 2])
}

/// `[b, 4c, h, w]` → `[b, c, 2h, 2w]`, the inverse of ``spaceToDepth(_:operation:)``.
func depthToSpace<Scalar: TensorScalar>(_ y: Tensor<Scalar>, operation: String) -> Tensor<Scalar> {
  precondition(
    y.rank == 4 && y.shape[1] % 4 == 0,
    "\(operation): input \(y.shape) is not [batch, channels, height, width] with channels divisible by 4")
  let (batch, channels, height, width) = (y.shape[0], y.shape[1], y.shape[2], y.shape[3])
  return y.reshaped(to: [batch, channels / 4, 2, 2, height, width])
    .transposed(permutation: [0, 1, 4, 2, 5, 3])  // [b, c, i, dy, j, dx]
    .reshaped(to: [batch, channels / 4, 2 * height, 2 * width])
}
