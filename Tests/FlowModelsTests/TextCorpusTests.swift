import FlowModels
import FlowTensor
import Foundation
import XCTest
import _TestSupport

/// One sample of `Fixtures/text8_mapping.py`: bytes and what the corpus
/// script makes of them.
private struct Text8MappingCase: Decodable {
  let utf8: [UInt8]
  let text: String
}

final class TextCorpusTests: XCTestCase {
  private var directory: URL!

  override func setUpWithError() throws {
    directory = FileManager.default.temporaryDirectory
      .appendingPathComponent("TextCorpusTests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws {
    try? FileManager.default.removeItem(at: directory)
  }

  private func write(_ text: String, to name: String) throws {
    try Data(text.utf8).write(to: directory.appendingPathComponent(name))
  }

  // MARK: Vocabulary

  func testVocabularyIndicesAndTextRoundTrip() {
    XCTAssertEqual(CharacterVocabulary.size, 27)
    XCTAssertEqual(CharacterVocabulary.alphabet.count, 27)
    XCTAssertEqual(CharacterVocabulary.indices(of: " az"), [0, 1, 26])
    XCTAssertEqual(CharacterVocabulary.indices(of: ""), [])
    XCTAssertNil(CharacterVocabulary.indices(of: "aB"))
    XCTAssertNil(CharacterVocabulary.indices(of: "a\n"))
    let text = "the quick brown fox jumps over the lazy dog"
    XCTAssertEqual(CharacterVocabulary.text(of: CharacterVocabulary.indices(of: text)!), text)
    XCTAssertEqual(CharacterVocabulary.text(of: [8, 9, 0, 26]), "hi z")
  }

  func testNormalizationMatchesTheCorpusScript() throws {
    let cases = try Fixtures.load([Text8MappingCase].self, named: "text8_mapping.json")
    XCTAssertEqual(cases.count, 9)
    for sample in cases {
      XCTAssertEqual(
        CharacterVocabulary.text(of: CharacterVocabulary.normalizedIndices(of: sample.utf8)), sample.text,
        "input \(String(decoding: sample.utf8, as: UTF8.self).debugDescription)")
    }
  }

  // MARK: Files

  func testReadsTheThreeParts() throws {
    try write("to be or not", to: "train.txt")
    try write("to be\n", to: "validation.txt")
    try write("that is\r\n", to: "test.txt")
    let corpus = try CharacterCorpus(directory: directory)
    XCTAssertEqual(CharacterVocabulary.text(of: corpus.training), "to be or not")
    XCTAssertEqual(CharacterVocabulary.text(of: corpus.validation), "to be")
    XCTAssertEqual(CharacterVocabulary.text(of: corpus[.test]), "that is")
    XCTAssertEqual(corpus[.train], corpus.training)
    XCTAssertEqual(CharacterCorpus.Split.allCases.map(\.fileName), ["train.txt", "validation.txt", "test.txt"])
  }

  func testAMissingFileNamesItselfAndTheCommandThatMakesIt() throws {
    try write("abc", to: "train.txt")
    XCTAssertThrowsError(try CharacterCorpus(directory: directory)) { error in
      guard let error = error as? CharacterCorpusError else { return XCTFail("\(error)") }
      XCTAssertEqual(error.file.lastPathComponent, "validation.txt")
      XCTAssertEqual(error.reason, .missingFile)
      XCTAssertTrue(error.description.contains(self.directory.appendingPathComponent("validation.txt").path),
        error.description)
      XCTAssertTrue(error.description.contains("no such file"), error.description)
      XCTAssertTrue(error.description.contains("make corpus"), error.description)
    }
  }

  func testTheDefaultFolderSaysToRunMakeCorpus() {
    XCTAssertEqual(CharacterCorpus.makeCommand, "make corpus")
    XCTAssertEqual(CharacterCorpus.defaultDirectory.path, FileManager.default.currentDirectoryPath + "/data/corpus")
    let remedy = CharacterCorpus.remedy(forDirectory: URL(fileURLWithPath: "data/corpus/", isDirectory: true))
    XCTAssertEqual(remedy, "make it with `make corpus` in the package folder")
    let error = CharacterCorpusError(
      file: CharacterCorpus.defaultDirectory.appendingPathComponent("train.txt"), reason: .missingFile, remedy: remedy)
    XCTAssertEqual(error.description,
      CharacterCorpus.defaultDirectory.path + "/train.txt: no such file; make it with `make corpus` in the package folder")
    XCTAssertNotEqual(CharacterCorpus.remedy(forDirectory: directory), remedy)
  }

  func testAByteOutsideTheAlphabetIsReportedWithItsOffset() throws {
    try write("abc", to: "train.txt")
    try write("ab Cd", to: "validation.txt")
    try write("abc", to: "test.txt")
    XCTAssertThrowsError(try CharacterCorpus(directory: directory)) { error in
      guard let error = error as? CharacterCorpusError else { return XCTFail("\(error)") }
      XCTAssertEqual(error.file.lastPathComponent, "validation.txt")
      XCTAssertEqual(error.reason, .invalidByte(value: 0x43, offset: 3))
      XCTAssertTrue(error.description.contains("'C' (0x43) at offset 3"), error.description)
    }
    // A line break anywhere but at the very end is not a symbol either.
    try write("ab\ncd", to: "solo.txt")
    XCTAssertThrowsError(try CharacterCorpus.readSymbols(from: directory.appendingPathComponent("solo.txt"))) { error in
      XCTAssertEqual((error as? CharacterCorpusError)?.reason, .invalidByte(value: 0x0A, offset: 2))
    }
  }

  // MARK: Windows

  func testWindowsTileTheTextOrSlideAlongIt() {
    let symbols: [UInt8] = (0..<10).map { UInt8($0) }
    let tiled = CharacterWindows(symbols: symbols, length: 3)
    XCTAssertEqual(tiled.count, 3)  // 0-2, 3-5, 6-8; the 9 is left over
    XCTAssertEqual(Array(tiled.window(2)), [6, 7, 8])
    let batch = tiled.batch([2, 0])
    XCTAssertEqual(batch.shape, [2, 3])
    XCTAssertEqual(batch.indices, [6, 7, 8, 0, 1, 2])

    let sliding = CharacterWindows(symbols: symbols, length: 4, stride: 1)
    XCTAssertEqual(sliding.count, 7)
    XCTAssertEqual(Array(sliding.window(6)), [6, 7, 8, 9])
    XCTAssertEqual(sliding.prefix(2).count, 2)
    XCTAssertEqual(sliding.prefix(100).count, 7)
    XCTAssertEqual(Array(sliding.prefix(2).window(1)), [1, 2, 3, 4])

    XCTAssertEqual(CharacterWindows(symbols: symbols, length: 10).count, 1)
    XCTAssertEqual(CharacterWindows(symbols: symbols, length: 11).count, 0)
    XCTAssertEqual(CharacterWindows(symbols: [], length: 1).count, 0)
    XCTAssertEqual(tiled.batch([]).shape, [0, 3])
  }

  func testTheTrainersSamplerDrawsEveryWindowOncePerEpoch() {
    let windows = CharacterWindows(symbols: (0..<40).map { UInt8($0 % 27) }, length: 4)
    var sampler = BatchSampler(count: windows.count, batchSize: 5, seed: 3)
    var seen: [Int] = []
    for _ in 0..<sampler.batchesPerEpoch {
      let batch = windows.batch(sampler.next())
      XCTAssertEqual(batch.shape, [5, 4])
      seen.append(contentsOf: stride(from: 0, to: batch.indices.count, by: 4).map { batch.indices[$0] })
    }
    XCTAssertEqual(seen.sorted(), stride(from: 0, to: 40, by: 4).map { $0 % 27 }.sorted())
  }

  func testWindowSamplerIsSeededInRangeAndResumable() throws {
    let symbols: [UInt8] = (0..<50).map { UInt8($0 % 27) }
    var sampler = WindowSampler(symbolCount: 50, length: 8, batchSize: 16, seed: 11)
    var all: [Int] = []
    for _ in 0..<40 { all += sampler.next() }
    XCTAssertEqual(sampler.step, 40)
    XCTAssertTrue(all.allSatisfy { (0...42).contains($0) })
    // Both ends of the range occur in 640 draws from 43 positions.
    XCTAssertTrue(all.contains(0) && all.contains(42))
    XCTAssertEqual(Set(all).count, 43)

    var first = WindowSampler(symbolCount: 50, length: 8, batchSize: 16, seed: 11)
    XCTAssertEqual(first.next(), Array(all[0..<16]))
    var other = WindowSampler(symbolCount: 50, length: 8, batchSize: 16, seed: 12)
    XCTAssertNotEqual(other.next(), Array(all[0..<16]))

    // A decoded copy continues with the original's batches.
    var original = WindowSampler(symbolCount: 50, length: 8, batchSize: 3, seed: 5)
    _ = original.next()
    _ = original.next()
    var copy = try JSONDecoder().decode(WindowSampler.self, from: JSONEncoder().encode(original))
    XCTAssertEqual(copy, original)
    let expected = original.nextBatch(of: symbols)
    let resumed = copy.nextBatch(of: symbols)
    XCTAssertEqual(resumed, expected)
    XCTAssertEqual(resumed.shape, [3, 8])
    let starts = WindowSampler.starts(symbolCount: 50, length: 8, batchSize: 3, seed: 5, step: 2)
    XCTAssertEqual(resumed.indices, starts.flatMap { start in (start..<start + 8).map { $0 % 27 } })
  }

  func testAnInconsistentSamplerDoesNotDecode() {
    let json = #"{"symbolCount": 5, "length": 8, "batchSize": 2, "seed": 1, "step": 0}"#
    XCTAssertThrowsError(try JSONDecoder().decode(WindowSampler.self, from: Data(json.utf8))) { error in
      XCTAssertTrue("\(error)".contains("holds no window of 8"), "\(error)")
    }
  }
}
