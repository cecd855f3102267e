import FlowTensor
import XCTest
import _TestSupport

final class SeededGeneratorTests: XCTestCase {
  struct Stream: Decodable {
    let words: [String]
    let normals: [Double]
  }
  struct Fixture: Decodable { let seeds: [String: Stream] }

  /// The stream matches an independent Python implementation, bit for bit.
  func testStreamMatchesReferenceImplementation() throws {
    let fixture = try Fixtures.load(Fixture.self, named: "random_stream.json")
    XCTAssertEqual(fixture.seeds.count, 4)
    for (seedText, stream) in fixture.seeds {
      var generator = SeededGenerator(seed: UInt64(seedText)!)
      let words = (0..<stream.words.count).map { _ in generator.next() }
      XCTAssertEqual(words, stream.words.map { UInt64($0)! }, "seed \(seedText)")

      var normalGenerator = SeededGenerator(seed: UInt64(seedText)!)
      let normals = Tensor<Double>.randomNormal(shape: [stream.normals.count], using: &normalGenerator)
      assertClose(normals, Tensor(stream.normals), relative: 1e-15, "seed \(seedText)")
    }
  }

  func testSameSeedSameNumbersAndCodableRoundTrip() throws {
    var first = SeededGenerator(seed: 7)
    _ = first.next()
    let saved = try JSONEncoder().encode(first)
    var restored = try JSONDecoder().decode(SeededGenerator.self, from: saved)
    XCTAssertEqual(first, restored)
    XCTAssertEqual((0..<5).map { _ in first.next() }, (0..<5).map { _ in restored.next() })
  }

  func testAllZeroStateIsRejected() {
    let data = Data(#"{"state": [0, 0, 0, 0]}"#.utf8)
    XCTAssertThrowsError(try JSONDecoder().decode(SeededGenerator.self, from: data))
  }

  func testRandomTensorsHaveTheRightMoments() {
    func check<Scalar: TensorScalar>(_: Scalar.Type) {
      var generator = SeededGenerator(seed: 3)
      let count = 200_000
      let normal = Tensor<Scalar>.randomNormal(shape: [count], mean: 2, standardDeviation: 3, using: &generator)
        .scalars.map(Double.init)
      let mean = normal.reduce(0, +) / Double(count)
      let variance = normal.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(count)
      // Standard errors: 3/√n ≈ 0.0067 for the mean, 9·√(2/n) ≈ 0.028 for the variance.
      XCTAssertEqual(mean, 2, accuracy: 0.03, "\(Scalar.self)")
      XCTAssertEqual(variance, 9, accuracy: 0.12, "\(Scalar.self)")

      let uniform = Tensor<Scalar>.randomUniform(shape: [count], in: -1..<3, using: &generator).scalars
      XCTAssertTrue(uniform.allSatisfy { $0 >= -1 && $0 < 3 })
      let uniformMean = uniform.map(Double.init).reduce(0, +) / Double(count)
      XCTAssertEqual(uniformMean, 1, accuracy: 0.02)  // standard error 4/√(12n) ≈ 0.0026

      let signs = Tensor<Scalar>.randomRademacher(shape: [count + 3], using: &generator).scalars
      XCTAssertTrue(signs.allSatisfy { $0 == 1 || $0 == -1 })
      let plusShare = Double(signs.filter { $0 == 1 }.count) / Double(signs.count)
      XCTAssertEqual(plusShare, 0.5, accuracy: 0.01)  // standard error 0.0011
    }
    check(Float.self)
    check(Double.self)
  }

  func testFloatSamplesAreRoundedDoubleSamples() {
    var doubleGenerator = SeededGenerator(seed: 11)
    var floatGenerator = SeededGenerator(seed: 11)
    let doubles = Tensor<Double>.randomNormal(shape: [9], using: &doubleGenerator).scalars
    let floats = Tensor<Float>.randomNormal(shape: [9], using: &floatGenerator).scalars
    XCTAssertEqual(floats, doubles.map { Float($0) })
  }
}
