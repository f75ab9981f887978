// controller: reconcilers, the work queue, leader election and status; the loop that runs the pipeline.
export {};
