import FlowLayers
import FlowTensor

extension CDFlow {
  /// The tensors that fix the model besides its parameters, which a
  /// parameter checkpoint does not hold: every circulant-diagonal mixer's
  /// signs and every LU mixer's permutation and signs, by dotted name
  /// (`<mixer>.diagonals.j.sign`, `<mixer>.circulants.j.sign`,
  /// `<mixer>.permutation`, `<mixer>.sign`, the names the PyTorch peer's
  /// state dict gives them). The peer benchmark and its tests hand these
  /// to PyTorch beside the parameters.
  public func fixedTensors() -> [String: Tensor<Scalar>] {
    var result: [String: Tensor<Scalar>] = [:]
    func walk(_ chain: Chain<Scalar>, prefix: String) {
      for (index, layer) in chain.layers.enumerated() {
        let name = "\(prefix)layers.\(index)"
        switch layer {
        case let inner as Chain<Scalar>:
          walk(inner, prefix: name + ".")
        case let multiScale as MultiScale<Chain<Scalar>>:
          walk(multiScale.inner, prefix: name + ".inner.")
        case let mixer as CirculantDiagonalConv1x1<Scalar>:
          for (j, diagonal) in mixer.factors.diagonals.enumerated() { result["\(name).diagonals.\(j).sign"] = diagonal.sign }
          for (j, circulant) in mixer.factors.circulants.enumerated() {
            result["\(name).circulants.\(j).sign"] = circulant.sign
          }
        case let mixer as LUInvertibleConvolution1x1<Scalar>:
          result["\(name).permutation"] = mixer.permutation
          result["\(name).sign"] = mixer.sign
        default:
          break
        }
      }
    }
    walk(transform, prefix: "transform.")
    return result
  }
}
