// source: Git mirrors and artifacts. A Git reference in, an immutable `{url, ref, commit, files}` out.
export {};
