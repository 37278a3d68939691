"""LAMP sampling: the first-frame-conditioned video diffusion pipeline and its post-processing."""

from lamp.sampling.pipeline import LAMPPipeline, LAMPPipelineOutput
from lamp.sampling.postprocess import adain, match_histograms, shared_noise

__all__ = ["LAMPPipeline", "LAMPPipelineOutput", "adain", "match_histograms", "shared_noise"]
