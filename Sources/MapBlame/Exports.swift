// The umbrella: one `import MapBlame` gives the whole library, as before the split into layers.
@_exported import MapBlameAnalysis
@_exported import MapBlameModel
@_exported import MapBlameTracer
