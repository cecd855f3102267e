// The umbrella module: `import NormalizingFlows` brings in the tensor core,
// the layers and the models, and nothing else lives here.
@_exported import FlowLayers
@_exported import FlowModels
@_exported import FlowTensor
