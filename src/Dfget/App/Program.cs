Console.WriteLine("dfget: the Dragonfly P2P download client.");
return 0;
