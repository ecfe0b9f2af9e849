namespace EcsReflex.Engine; public static class Placeholder {}
