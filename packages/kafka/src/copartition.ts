import { AssignerProtocol, type PartitionAssigner } from "kafkajs";

export const COPARTITION_ASSIGNER = "CoPartitionAssigner";
const VERSION = 1;

/**
 * Assigns partition numbers, not topic-partitions: partition n of every subscribed topic goes to the
 * same member (members sorted by id, n modulo their count). With co-partitioned topics a member then
 * owns every message about the keys of its partitions, as Kafka Streams does.
 */
export const coPartitionAssigner: PartitionAssigner = ({ cluster }) => ({
  name: COPARTITION_ASSIGNER,
  version: VERSION,
  async assign({ members, topics }) {
    const sorted = members.map((m) => m.memberId).sort();
    const assignment = new Map<string, Record<string, number[]>>(sorted.map((id) => [id, {}]));
    for (const topic of topics) {
      for (const { partitionId } of cluster.findTopicPartitionMetadata(topic)) {
        const member = assignment.get(sorted[partitionId % sorted.length]!)!;
        (member[topic] ??= []).push(partitionId);
      }
    }
    return [...assignment].map(([memberId, topicsOf]) => ({
      memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({
        version: VERSION,
        assignment: topicsOf,
        userData: Buffer.alloc(0),
      }),
    }));
  },
  protocol({ topics }) {
    return {
      name: COPARTITION_ASSIGNER,
      metadata: AssignerProtocol.MemberMetadata.encode({ version: VERSION, topics, userData: Buffer.alloc(0) }),
    };
  },
});
