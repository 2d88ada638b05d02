/** The queries our services are expected to send, in the shape the simulator serves; used by the bench. */

/** Identity template tag, so the query-document scan picks these up like graphql-request's `gql`. */
const gql = (strings: TemplateStringsArray, ...values: unknown[]): string => String.raw({ raw: strings }, ...values);

export const STREAMS_PAGE = gql`
  query StreamsPage($first: Int!, $after: Cursor) {
    streams(first: $first, after: $after, options: { sort: VIEWER_COUNT }) {
      edges {
        cursor
        node {
          id
          viewersCount
          createdAt
          type
          broadcaster {
            id
            login
            displayName
            broadcastSettings {
              title
              language
              isMature
            }
          }
          game {
            id
            name
            displayName
          }
        }
      }
      pageInfo {
        hasNextPage
      }
    }
  }
`;

export const ARCHIVES = gql`
  query Archives($login: String!) {
    user(login: $login) {
      id
      login
      subscriptionProducts {
        hasSubonlyVideoArchive
      }
      videos(first: 10, type: ARCHIVE, sort: TIME) {
        edges {
          node {
            id
            createdAt
            lengthSeconds
            status
            seekPreviewsURL
            broadcastType
          }
        }
      }
    }
  }
`;
