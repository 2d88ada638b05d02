export interface Game {
  id: string;
  name: string;
}

/** The categories streams are in, with Twitch's real ids. */
export const GAMES: readonly Game[] = [
  { id: "509658", name: "Just Chatting" },
  { id: "21779", name: "League of Legends" },
  { id: "32982", name: "Grand Theft Auto V" },
  { id: "516575", name: "VALORANT" },
  { id: "33214", name: "Fortnite" },
  { id: "27471", name: "Minecraft" },
  { id: "32399", name: "Counter-Strike" },
  { id: "29595", name: "Dota 2" },
  { id: "743", name: "Chess" },
  { id: "26936", name: "Music" },
  { id: "509660", name: "Art" },
  { id: "491487", name: "Dead by Daylight" },
];
