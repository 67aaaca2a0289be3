/** A copy could not be brought to the version a call read: the call fails closed. */
export class CopyUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CopyUnavailableError';
  }
}

/**
 * A local copy of data another service owns, kept per version (docs/architecture.md, "Key
 * material"): a call that read version `v` with its own data asks for the copy at `v` or later; a
 * newer version fetches once (concurrent calls share the fetch). A fetch already under way may have
 * read before `v` was committed: at most one more fetch then, which starts after the call's read.
 * Otherwise the call fails closed (`unavailable` names the error to throw).
 */
export class VersionedCopy<T extends { version: number }> {
  private held?: T;
  private loading?: Promise<T>;

  constructor(
    private readonly fetch: () => Promise<T>,
    private readonly unavailable: (version: number) => Error = (v) => new CopyUnavailableError(`copy at version ${v} not available yet`),
  ) {}

  async atLeast(version: number): Promise<T> {
    const held = this.held;
    if (held && held.version >= version) return held;
    for (let attempt = 0; attempt < 2; attempt++) {
      const copy = await this.load();
      if (copy.version >= version) return copy;
    }
    throw this.unavailable(version);
  }

  private load(): Promise<T> {
    if (!this.loading) {
      this.loading = this.fetch()
        .then((fresh) => {
          if (!this.held || fresh.version >= this.held.version) this.held = fresh;
          return this.held;
        })
        .finally(() => {
          this.loading = undefined;
        });
    }
    return this.loading;
  }
}
