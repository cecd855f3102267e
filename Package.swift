// swift-tools-version:6.0
// swift-normalizing-flows: normalizing-flow layers with cheap Jacobian
// determinants, and the models built from them.
import PackageDescription

let package = Package(
  name: "swift-normalizing-flows",
  products: [
    .library(name: "NormalizingFlows", targets: ["NormalizingFlows"]),
    .library(name: "FlowTensor", targets: ["FlowTensor"]),
    .library(name: "FlowLayers", targets: ["FlowLayers"]),
    .library(name: "FlowModels", targets: ["FlowModels"]),
    .executable(name: "flows", targets: ["flows"]),
    .executable(name: "flowbench", targets: ["flowbench"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
  ],
  targets: [
    // C libraries behind a wall: a module map and a shim header each, no Swift.
    .systemLibrary(
      name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "blas",
      providers: [.apt(["libopenblas-dev"])]),
    .systemLibrary(
      name: "CLAPACK", path: "Sources/CLAPACK", pkgConfig: "lapack",
      providers: [.apt(["liblapack-dev", "libopenblas-dev"])]),
    .systemLibrary(
      name: "CFFTW", path: "Sources/CFFTW", pkgConfig: "fftw3",
      providers: [.apt(["libfftw3-dev"])]),
    .systemLibrary(
      name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
      providers: [.apt(["zlib1g-dev"])]),

    // Vectorised C kernels chosen at run time (AVX2+FMA or portable C).
    .target(name: "_FlowKernels"),
    .target(
      name: "FlowTensor",
      dependencies: [
        "CBLAS", "CLAPACK", "CFFTW", "CZlib", "_FlowKernels",
        .product(name: "RealModule", package: "swift-numerics"),
      ]),
    .target(name: "FlowLayers", dependencies: ["FlowTensor"]),
    .target(name: "FlowModels", dependencies: ["FlowLayers", "FlowTensor"]),
    .target(name: "NormalizingFlows", dependencies: ["FlowTensor", "FlowLayers", "FlowModels"]),
    .executableTarget(
      name: "flows",
      dependencies: [
        "NormalizingFlows",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),
    .executableTarget(
      name: "flowbench",
      dependencies: [
        "FlowTensor",
        "FlowLayers",
        "FlowModels",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      path: "Benchmarks/FlowBench"),

    .target(
      name: "_TestSupport",
      dependencies: ["FlowTensor", .product(name: "RealModule", package: "swift-numerics")],
      path: "Tests/_TestSupport"),
    // Fixtures are read from the source tree by path, beside the script
    // that wrote them.
    .testTarget(
      name: "FlowTensorTests", dependencies: ["FlowTensor", "_TestSupport", "PreconditionProbe"],
      exclude: ["Fixtures"]),
    // Makes one programming mistake per run, for the precondition-message tests.
    .executableTarget(name: "PreconditionProbe", dependencies: ["FlowTensor"], path: "Tests/PreconditionProbe"),
    .testTarget(name: "FlowLayersTests", dependencies: ["FlowLayers", "_TestSupport"]),
    .testTarget(name: "FlowModelsTests", dependencies: ["FlowModels", "_TestSupport"], exclude: ["Fixtures"]),
  ],
  // Kernels hand raw buffer pointers to worker threads in disjoint ranges;
  // Swift 5 mode keeps strict-concurrency checking as warnings for that.
  swiftLanguageModes: [.v5]
)
