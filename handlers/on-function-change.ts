// Placeholder entry point: the real pipeline lands with the reconciler core.
export const handler = async (): Promise<void> => {
  throw new Error('not implemented yet');
};
