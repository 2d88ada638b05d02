import { AssignerProtocol, type Admin } from "kafkajs";
import type { Catalog } from "@vod/kafka";

/** What the group's coordinator and the input topics say, asked through the admin client. */
export class GroupView {
  readonly #inputs: string[];

  constructor(
    private readonly admin: Admin,
    private readonly groupId: string,
    private readonly catalog: Catalog,
  ) {
    this.#inputs = [catalog.streamSnapshots.name, catalog.sweeps.name];
  }

  /** The partitions whose inputs this group has committed up to what the topics held a moment ago. */
  async caughtUp(partitions: number[]): Promise<Set<number>> {
    const highs = await Promise.all(this.#inputs.map((t) => this.admin.fetchTopicOffsets(t)));
    const committed = await this.admin.fetchOffsets({ groupId: this.groupId, topics: this.#inputs });
    const done = new Set(partitions);
    this.#inputs.forEach((topic, i) => {
      const at = new Map(
        (committed.find((c) => c.topic === topic)?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]),
      );
      for (const p of highs[i] ?? []) {
        if (!done.has(p.partition)) continue;
        if (BigInt(p.high) > BigInt(p.low) && (at.get(p.partition) ?? -1n) < BigInt(p.high)) done.delete(p.partition);
      }
    });
    return done;
  }

  /**
   * The partitions the coordinator says this member owns in a stable group. Asked right before
   * releasing: a member that was dropped from the group (a long pause) learns it only at its next
   * heartbeat, and must not release what its successor has restored.
   */
  async confirmedOwned(memberId: string | undefined): Promise<Set<number>> {
    const { groups } = await this.admin.describeGroups([this.groupId]);
    const group = groups[0];
    const me = group?.state === "Stable" ? group.members.find((m) => m.memberId === memberId) : undefined;
    if (!me) return new Set();
    const assignment = AssignerProtocol.MemberAssignment.decode(me.memberAssignment)?.assignment ?? {};
    return new Set(assignment[this.catalog.streamSnapshots.name] ?? []);
  }
}
