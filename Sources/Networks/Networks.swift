/// The networks being evolved: specs, parameter layouts, batched forward and backward, safetensors.
public enum NetworksModule {}
