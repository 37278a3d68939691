from .pipeline import LAMPPipeline, LAMPPipelineOutput
from .postprocess import adain, match_histograms, shared_noise

__all__ = ["LAMPPipeline", "LAMPPipelineOutput", "adain", "match_histograms", "shared_noise"]
